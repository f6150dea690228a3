import { createHash } from "node:crypto";
import type { CompiledQuery, DatabaseIntrospector, DialectAdapter, Kysely, QueryCompiler, RawBuilder } from "kysely";
import type { TableNames } from "../model/types.js";
import { derivedName } from "./tables.js";

/** A statement ready to run: SQL text and its parameters. */
export interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** One connection's worth of work, inside or outside a transaction. */
export interface SqlSession {
  /** Runs a query and returns its rows, with BIGINT columns as JS numbers. */
  all<R>(statement: Statement | CompiledQuery): Promise<R[]>;
  /** Runs a statement for its effect. */
  run(statement: Statement | CompiledQuery): Promise<void>;
  /**
   * Optional: runs `sql` once for each row of parameters, in order, stopping
   * at the first failure (SQLite: one prepared statement in a synchronous
   * loop, with no promise or statement object per row).
   */
  runEach?(sql: string, rows: readonly (readonly unknown[])[]): Promise<void>;
  /**
   * Optional: queues a statement to run at the start of this session's next
   * round trip (with its next query, or with COMMIT), so that a write
   * transaction's statements travel together instead of one round trip each.
   * Its failure fails that round trip; a rollback drops what is still queued.
   * Returns false, queuing nothing, when the session cannot send this
   * statement that way: then the caller runs it.
   */
  defer?(statement: Statement): boolean;
  /**
   * Optional: {@link defer}, and `take` gets the statement's rows when its
   * round trip comes back (before that round trip's query resolves).
   */
  deferRows?(statement: Statement, take: (rows: unknown[]) => void): boolean;
  /**
   * Optional: like {@link all}, each row as an array of its columns in select
   * order. Streams read through it when the driver has it: no object per row.
   */
  values?(statement: Statement | CompiledQuery): Promise<unknown[][]>;
  /**
   * Optional: {@link run} as a prepared statement, its values sent apart from
   * its text, after what the session has queued (MySQL/MariaDB: the binary
   * protocol, where the text protocol escapes every value into the statement
   * and the server parses it back). The store uses it for the full-size
   * chunks of large inserts only, so that a connection prepares few statements.
   */
  runPrepared?(statement: Statement): Promise<void>;
  /**
   * Optional: the most a statement's values may add up to on this session (as
   * {@link valueBytes} counts them), where the server allows less than the
   * dialect's {@link SqlDialect.maxStatementBytes} (MySQL's max_allowed_packet).
   */
  readonly maxStatementBytes?: number;
}

/** The connections of one SQL store: how reads, writes and schema changes run. */
export interface SqlDriver {
  /** Runs reads on a connection that sees only committed data; never blocked by writers. */
  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction holding the store's write lock, so that
   * writers (in any process) are serialized and seqNos follow commit order.
   * Commits when `commit(result)`; concurrency failures throw `WriteConflictError`.
   */
  write<T>(fn: (session: SqlSession) => Promise<T>, commit: (result: T) => boolean): Promise<T>;
  /** Runs schema statements so that two processes doing it at once both succeed. */
  migrate(fn: (session: SqlSession) => Promise<void>): Promise<void>;
  /** Ends what the store opened (not a pool the application passed in). */
  close(): Promise<void>;
  /**
   * Optional: runs one call of the dialect's `storedAppend` routine, which
   * takes the write lock itself, in a transaction of its own; resolves with
   * the rows of its first result. `setup` (a routine each session makes for
   * itself, see {@link StoredAppend.perSession}) runs before the first call
   * on a connection, in that call's round trip, and again on a connection
   * that lost it.
   */
  call?(statement: Statement, setup?: Statement): Promise<unknown[]>;
  /**
   * After a commit that deleted secrets from `table` (the keystore's expired
   * keys), removes their remaining copies from the database's files, outside
   * any transaction: SQLite checkpoints and truncates the WAL, PostgreSQL
   * rewrites the relation. Resolves false when the database could not finish
   * now (a reader holds an old snapshot). Optional: without it, nothing is done.
   */
  scrub?(table: string): Promise<boolean>;
  /**
   * Names the database this driver works on, the same for every driver on it
   * in this process (a resolved file path, a server and database), so that
   * stores opened twice on it wake each other's followers. Absent for a
   * private database (`sqlite::memory:`).
   */
  readonly database?: string | undefined;
  /**
   * Listens for the commit notifications of {@link SqlDialect.notifyStatement}
   * on `channel` (from every process); returns the unsubscribe function.
   * Optional: followers also poll, so a driver without it only reacts later.
   */
  subscribe?(channel: string, onNotify: () => void, onError: (error: unknown) => void): () => void;
  /**
   * Runs `fn` in one read-write transaction for projections' read models and
   * checkpoints, committed when it resolves: on the servers WITHOUT the
   * store's write lock; SQLite, with one writer per file, holds it.
   */
  transaction?<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
}

/** Roughly the bytes of a statement's values, as {@link SqlDialect.maxStatementBytes} counts them: string lengths, 8 for any other value. */
export function valueBytes(values: readonly unknown[]): number {
  let bytes = 0;
  for (const v of values) bytes += typeof v === "string" ? v.length : 8;
  return bytes;
}

/** Column types of one database, for the DDL. */
export interface ColumnTypes {
  /** seqNos, hashes, millisecond timestamps. */
  readonly bigint: string;
  readonly integer: string;
  /** Kinds, reasons, sources: at most 200 UTF-16 code units, compared exactly. */
  readonly kind: string;
  /** Ids (JSON text), compared exactly, unbounded. */
  readonly id: string;
  /** Patches and trigger lists: JSON text kept as written. */
  readonly json: string;
}

/**
 * What differs between databases, declared as capabilities with defaults in
 * {@link BaseSqlDialect}: the SQL store asks these, never "which database is this".
 */
export interface SqlDialect {
  readonly name: "sqlite" | "postgres" | "mysql";
  readonly types: ColumnTypes;
  /** Most bound parameters one statement may carry. */
  readonly maxParameters: number;
  /** True where one prepared single-row INSERT per row beats multi-row INSERTs (no round trips). */
  readonly singleRowInserts: boolean;
  /**
   * True where one statement may insert into several relations (PostgreSQL's
   * data-modifying `WITH`): a rebase's rows then go in one INSERT.
   */
  readonly insertsWithCtes: boolean;
  /** True where `CREATE INDEX IF NOT EXISTS` works. */
  readonly supportsCreateIndexIfNotExists: boolean;
  /**
   * Roughly the most bytes of values one multi-row INSERT may carry (as
   * {@link valueBytes} counts them), where the server caps a statement's size
   * (MySQL's `max_allowed_packet`); `Infinity` where only {@link maxParameters} counts.
   */
  readonly maxStatementBytes: number;
  /**
   * The statement that tells listeners on `channel` of a commit, run inside
   * the write transaction so it is delivered only if that commits (PostgreSQL
   * `pg_notify`); absent where the database has no notifications.
   */
  notifyStatement?(channel: string): Statement;
  /**
   * Statements run in a transaction before it deletes or overwrites secrets,
   * so the freed space is overwritten (SQLite `PRAGMA secure_delete`).
   */
  readonly secureDeleteStatements: readonly string[];
  /**
   * Optional: a string column (`"a.patch"`) as the stream's pages select it,
   * where the database keeps bytes its driver would otherwise decode value by
   * value (MySQL's binary columns, cast to text). Without it, the column as it is.
   */
  textOf?(ref: string): RawBuilder<string>;
  /**
   * True where the aggregate index holds the identity itself,
   * `actions(aggregate_id, aggregate_kind, seq_no)`, instead of its hash
   * (SQLite, which bounds no index entry; PostgreSQL's B-tree entries and
   * MySQL's keys are bounded, and ids are not). Neighbouring ids then share
   * index pages, as they share the table's: a commit of actions on
   * `order 41`, `order 42`, … writes a few index pages, not one per action.
   * The queries that read through the index then compare kind and id in SQL.
   */
  readonly identityIndex: boolean;
  /**
   * True where kind and id compare byte for byte in SQL and any of them can
   * be sent as a parameter (SQLite; PostgreSQL, whose text equality is
   * bytewise under its deterministic collations): `aggregate()`'s pages then
   * compare them there and read back only seqNo and patch. MySQL's
   * collations and a session's character set leave that to the caller.
   * True wherever {@link identityIndex} is.
   */
  readonly identityInSql: boolean;
  /**
   * True where a stream reads its next page ahead (`Backend.readsAhead`):
   * the server works on a page while the caller works through the one before
   * (MySQL/MariaDB, PostgreSQL). SQLite reads in the caller's thread.
   */
  readonly readsAhead: boolean;
  /**
   * Rows per page where it reads ahead, if not the stream's 2,000
   * (`Backend.aheadPageSize`): PostgreSQL's pages of 2,000 ahead held up to 8 MB
   * more at the peak of a stream of 1,000,000 actions (138-147 MB of the 150
   * the benchmark allows); pages of 1,000 hold what one page of 2,000 did.
   */
  readonly aheadPageSize?: number;
  /** `Backend.pollCeilingMs`: where other processes' commits are found only by polling. */
  readonly pollCeilingMs?: number;
  /**
   * Optional: how a rebase runs in one round trip without knowing the head
   * (see {@link HeadlessAppend}), where the session can queue every statement.
   */
  readonly headless?: HeadlessAppend;
  /**
   * How the {@link headless} guard looks for a conflict of the history's
   * aggregates (`anyConflictQuery`):
   * - `"exact"`: hashes in an `IN` list, then kind and id compared;
   * - `"coarse"` (`anyChangeQuery`): actions by their hashes alone, and any
   *   effect since the base, which may refuse where the exact rules find no
   *   conflict (then they decide). MariaDB estimates an `IN` list by diving
   *   into the index, so the plan holds; by hashes alone, the guard of 100
   *   aggregates took 0.49-0.68 ms instead of 1.21-1.35 (200,000 actions stored);
   * - `"per-aggregate"`: one index probe per aggregate (`unnest` and a lateral
   *   `LIMIT 1`). PostgreSQL plans from statistics: before a growing table was
   *   analyzed, or with a base far back, either `IN` form read the whole
   *   relation (14-166 ms for 100 aggregates over 200,000 actions), where
   *   this took 0.15-1.6 ms in every case measured.
   */
  readonly conflictGuard: "exact" | "coarse" | "per-aggregate";
  /**
   * Optional: a stored routine that appends one action (without triggers) on
   * the head in one call (see {@link StoredAppend}), where the driver has
   * {@link SqlDriver.call}.
   */
  readonly storedAppend?: StoredAppend;
  /**
   * Optional: finds the columns of `relations` that an earlier release made
   * with other types than {@link types} (MySQL's string columns were binary
   * before they were text); {@link upgradeStatements} converts them.
   */
  legacyColumnsQuery?(db: Kysely<unknown>, relations: readonly string[]): CompiledQuery;
  /** The statements that convert the columns {@link legacyColumnsQuery} found (its rows); run by `initSchema`. */
  upgradeStatements?(rows: readonly unknown[]): string[];
  /** The columns of `relation` in the store's schema or database; none where the relation does not exist. */
  columnsQuery(db: Kysely<unknown>, relation: string): CompiledQuery<Column>;
  /**
   * What gives an action relation of schema version 1 the columns of version 2 (its event's
   * timestamp and source, NOT NULL, copied from the event relation), given its `columns`:
   * `before` runs ahead of `initSchema`'s CREATE statements, `after` once they ran.
   */
  eventColumnsUpgrade(tables: TableNames, columns: readonly Column[]): { before: string[]; after: string[] };
  /**
   * Optional: finds which of the foreign keys `[relation, constraint]` exist
   * in the store's schema or database (rows `{ table_name, constraint_name }`);
   * {@link dropForeignKey} drops each. Where it is absent, foreign keys of
   * earlier releases stay and go unchecked (SQLite's `foreign_keys` is off).
   */
  foreignKeysQuery?(db: Kysely<unknown>, keys: readonly (readonly [string, string])[]): CompiledQuery<ForeignKey>;
  dropForeignKey?(key: ForeignKey): string;
  createAdapter(): DialectAdapter;
  createQueryCompiler(): QueryCompiler;
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector;
}

/**
 * A rebase in one round trip, where a session sends a transaction's
 * statements together and a failure stops the rest (MySQL/MariaDB's
 * multi-statement queries; PostgreSQL's pipeline, in which a failure aborts
 * the transaction): the head is kept in a session or transaction variable,
 * one guard fails unless the base is at most head + 1 and nothing conflicts,
 * and the rows' seqNos are that variable plus their place in the history. A
 * guard that fails leaves the transaction without a row written, for a
 * rollback. Few statements, since the lock is held while the server runs
 * them: on MariaDB each took 0.05 to 0.1 ms.
 */
export interface HeadlessAppend {
  /** Keeps the head (`head`, one row of one column, null when empty) for the statements after it. */
  keepHead(head: Statement): Statement;
  /**
   * Fails with {@link failure} when `base` is past the kept head + 1 or
   * `conflicts` (one row, one boolean column: `anyConflictQuery` or `anyChangeQuery`) holds; else
   * answers one row `{ head }`, the kept head.
   */
  guard(base: number, conflicts: Statement | undefined): Statement;
  /** The SQL expression of the kept head: the inserts number their rows as it + their place (a parameter). */
  readonly keptHeadSql: string;
  /** The `dbCode` of a guard's failure. */
  readonly failure: string;
}

/**
 * A routine the schema holds that does what {@link HeadlessAppend}'s
 * statements do for one action without triggers: takes the write lock, reads
 * the head, refuses when the base is past it + 1 or the guard of
 * `anyChangeQuery` holds (writing nothing), else appends the action as the
 * head + 1 and commits; it answers one row `{ head, refused, theirs }`
 * (refused 1 or true when it refused), the head as read under the lock. A
 * refusal with no effect since the base answers in `theirs` the first action
 * on the aggregate (kind and id compared exactly) with `base <= seqNo <=
 * head`, the conflict the full rules would find, as the JSON array of its
 * {@link STORED_THEIRS} columns (null when there is none: the guard matched a
 * hash only); a refusal for an effect answers none, and so does one on a
 * PostgreSQL session whose client encoding is not UTF-8. The server parses it once per connection
 * instead of a statement list per rebase: on MariaDB, 0.46 against 0.77 ms
 * of server time a rebase, and 4 contending writers committed 700 rebases a
 * second instead of 450. `initSchema` creates it where the user may; where it
 * is missing (no CREATE ROUTINE, a store of an earlier release) or may not be
 * called, rebases take the statements.
 */
export interface StoredAppend {
  /**
   * The routine's name for the store's relations: named after the event
   * relation, with a digest of the relations it writes, since routine names
   * ignore case where relation names may not (`Events` and `events`).
   */
  name(tables: TableNames): string;
  /**
   * The statement that creates routine `name`: in `initSchema`, whose
   * migration tolerates it existing or not being allowed, or per session
   * ({@link perSession}).
   */
  create(tables: TableNames, name: string): string;
  /**
   * True when each session makes the routine for itself before its first
   * call (PostgreSQL: a function in `pg_temp`, which no other session can
   * see, replace or shadow), and `initSchema` makes none.
   */
  readonly perSession?: boolean;
  /**
   * The call of routine `name`; it binds the base, then the action's aggregate
   * hash, timestamp, source, reason, actor kind, actor id, aggregate kind,
   * aggregate id and patch, as {@link appendOneParameters} lists them.
   */
  call(name: string): string;
  /**
   * The session's sql_mode set for the CREATE, and set back after it: a
   * routine runs with the sql_mode it was created under, and some modes
   * (ORACLE) parse another syntax (MySQL/MariaDB).
   */
  readonly sqlMode?: { readonly set: string; readonly restore: string };
  /** The `dbCode`s that mean the routine cannot be called here (missing, another routine of that name, not allowed). */
  readonly unavailable: ReadonlySet<string>;
}

/**
 * The columns of the action relation a {@link StoredAppend} refusal answers
 * in `theirs`, in the order `actionFromValues` reads them.
 */
export const STORED_THEIRS = [
  "seq_no",
  "timestamp",
  "source",
  "reason",
  "actor_kind",
  "actor_id",
  "aggregate_kind",
  "aggregate_id",
  "patch",
  "triggers",
] as const;

/**
 * {@link StoredAppend.name}: the event relation's name, cut to 40 characters,
 * then `_append_v3_` and a digest of the relations the routine writes (63
 * characters at most, which every database takes). Routine names ignore case
 * on MySQL/MariaDB where relation names may not (`Events` and `events`).
 */
export function storedAppendName(tables: TableNames): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([tables.event, tables.action, tables.effect, derivedName(tables, "meta")]))
    .digest("hex")
    .slice(0, 12);
  return `${tables.event.slice(0, 40)}_append_v3_${digest}`;
}

/** A column as {@link SqlDialect.columnsQuery} finds it. */
export interface Column {
  name: string;
  /** `"YES"` or `"NO"`, as `information_schema.columns.is_nullable`. */
  nullable: string;
}

/** The columns schema version 2 added to the action relation (copies of the event relation's). */
export const EVENT_COLUMNS = ["timestamp", "source"] as const;

/** A foreign key as {@link SqlDialect.foreignKeysQuery} finds it. */
export interface ForeignKey {
  table_name: string;
  constraint_name: string;
}

/** Defaults of {@link SqlDialect}'s capabilities. */
export abstract class BaseSqlDialect implements SqlDialect {
  abstract readonly name: "sqlite" | "postgres" | "mysql";
  abstract readonly types: ColumnTypes;
  readonly maxParameters: number = 32_000;
  readonly singleRowInserts: boolean = false;
  readonly insertsWithCtes: boolean = false;
  readonly supportsCreateIndexIfNotExists: boolean = true;
  readonly maxStatementBytes: number = Number.POSITIVE_INFINITY;
  readonly secureDeleteStatements: readonly string[] = [];
  readonly identityIndex: boolean = false;
  readonly identityInSql: boolean = false;
  readonly readsAhead: boolean = false;
  readonly conflictGuard: "exact" | "coarse" | "per-aggregate" = "exact";
  abstract columnsQuery(db: Kysely<unknown>, relation: string): CompiledQuery<Column>;
  abstract eventColumnsUpgrade(tables: TableNames, columns: readonly Column[]): { before: string[]; after: string[] };
  abstract createAdapter(): DialectAdapter;
  abstract createQueryCompiler(): QueryCompiler;
  abstract createIntrospector(db: Kysely<unknown>): DatabaseIntrospector;
}

/**
 * {@link SqlDialect.eventColumnsUpgrade} where `ALTER TABLE` adds a column and
 * sets NOT NULL (PostgreSQL, MySQL/MariaDB): the missing columns are added,
 * the rows without them are filled in from the event relation, then NOT NULL
 * is set. Each step is idempotent, so a migration cut short is finished by the
 * next `initSchema`.
 */
export function alterEventColumns(
  columns: readonly Column[],
  statements: {
    add(column: (typeof EVENT_COLUMNS)[number]): string;
    fill: string;
    notNull(column: (typeof EVENT_COLUMNS)[number]): string;
    alter: string;
  },
): string[] {
  const found = new Map(columns.map((c) => [c.name, c.nullable]));
  if (EVENT_COLUMNS.every((c) => found.get(c) === "NO")) return [];
  const missing = EVENT_COLUMNS.filter((c) => !found.has(c));
  const out: string[] = [];
  if (missing.length > 0) out.push(`${statements.alter} ${missing.map((c) => statements.add(c)).join(", ")}`);
  out.push(statements.fill);
  out.push(`${statements.alter} ${EVENT_COLUMNS.map((c) => statements.notNull(c)).join(", ")}`);
  return out;
}
