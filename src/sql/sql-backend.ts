import { type CompiledQuery, DummyDriver, Kysely } from "kysely";
import {
  type ActionFilter,
  type ActionPage,
  type ActionPageQuery,
  type Backend,
  type HeadAndEffects,
  type PatchPage,
  type RebaseRecord,
  type Refused,
  type ReplayPageQuery,
  UNBOUNDED,
  type WriteTx,
} from "../backend.js";
import type { EncodedEvent, EncodedIdentity } from "../model/codec.js";
import { DatabaseError, WriteConflictError } from "../model/errors.js";
import { identityKey } from "../model/identity.js";
import type { StoredAction, TableNames } from "../model/types.js";
import { ClosingDriver } from "./closing-driver.js";
import {
  type Column,
  type ForeignKey,
  type HeadlessAppend,
  type SqlDialect,
  type SqlDriver,
  type SqlSession,
  STORED_THEIRS,
  type Statement,
  type StoredAppend,
  valueBytes,
} from "./dialect.js";
import { actionPageQuery, type TextOf } from "./queries/action-page.js";
import {
  appendOneParameters,
  appendRows,
  columnCount,
  combinedInsertQuery,
  insertQuery,
  TABLES,
} from "./queries/append.js";
import { conflictsQuery } from "./queries/conflicts.js";
import { createSchemaQueries, legacyForeignKeys } from "./queries/create-schema.js";
import {
  anyChangeQuery,
  anyConflictPerAggregateQuery,
  anyConflictQuery,
  distinctHashRounds,
  type FirstConflictRow,
  firstConflictsParameters,
  firstConflictsPerAggregateQuery,
  firstConflictsQuery,
} from "./queries/first-conflicts.js";
import { headAndEffectsQuery, headOf, headQuery } from "./queries/head.js";
import { insertMetaQuery, META, metaRowsQuery, SCHEMA_VERSION, updateMetaQuery } from "./queries/meta.js";
import { patchPageQuery } from "./queries/patch-page.js";
import { readEventsQuery } from "./queries/read-events.js";
import { findRebaseQuery, insertRebaseQuery } from "./queries/rebases.js";
import { replayPageQuery } from "./queries/replay-page.js";
import {
  type ActionRow,
  actionFromValues,
  type EventRow,
  eventFromRow,
  storedActionFromValues,
} from "./queries/rows.js";
import type { Schema } from "./schema.js";
import { derivedName, relationNames, renameTables } from "./tables.js";

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Rows of a chunk from which an insert goes prepared ({@link SqlSession.runPrepared}):
 * below it, the round trips a prepared statement adds cost more than the
 * statement text it saves.
 */
const PREPARED_ROWS = 1000;

/** Adds to `out` the lowest seqNo of each aggregate in `rows` (exact kind and id) that is `wanted`. */
function firstByAggregate(
  rows: readonly FirstConflictRow[],
  wanted: ReadonlySet<string>,
  out: Map<string, number>,
): Map<string, number> {
  for (const row of rows) {
    const key = identityKey(row.kind, row.id);
    const seqNo = Number(row.seq_no);
    if (!wanted.has(key)) continue;
    const known = out.get(key);
    if (known === undefined || seqNo < known) out.set(key, seqNo);
  }
  return out;
}

/**
 * The values of `rows` one after the other, appended to `out`: a statement's
 * parameters. A loop, not `Array.prototype.flat` (100 rows of 11 values: 8
 * against 87 µs).
 */
function flatInto(out: unknown[], rows: readonly (readonly unknown[])[]): unknown[] {
  for (const row of rows) for (const value of row) out.push(value);
  return out;
}

/** Chunks of at most `size` rows whose string values add up to at most `maxBytes` (a row alone may exceed it). */
function boundedChunks(rows: readonly unknown[][], size: number, maxBytes: number): unknown[][][] {
  if (maxBytes === Number.POSITIVE_INFINITY) return chunks(rows, size);
  const out: unknown[][][] = [];
  let chunk: unknown[][] = [];
  let bytes = 0;
  for (const row of rows) {
    const rowBytes = valueBytes(row);
    if (chunk.length > 0 && (chunk.length >= size || bytes + rowBytes > maxBytes)) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += rowBytes;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/**
 * The row filter SQL may not have applied exactly (hash collisions, long lists), on a row's
 * aggregate kind and id text; undefined when the filter keeps every action.
 */
function exactFilter(filter: ActionFilter): ((kind: string, id: string) => boolean) | undefined {
  const keys = filter.aggregates && new Set(filter.aggregates.map((a) => a.key));
  const kinds = filter.kinds && new Set(filter.kinds);
  if (!keys && !kinds) return undefined;
  return (kind, id) =>
    (keys === undefined || keys.has(identityKey(kind, id))) && (kinds === undefined || kinds.has(kind));
}

/**
 * A query's rows as arrays of their columns in select order: `values()` where
 * the session has it, else each row object's values (its keys are the selected
 * column names, in select order).
 */
async function arrays(s: SqlSession, statement: Statement | CompiledQuery): Promise<unknown[][]> {
  if (s.values) return s.values(statement);
  return (await s.all<Record<string, unknown>>(statement)).map((row) => Object.values(row));
}

/**
 * Rows {@link DecodedRows} decodes at a time. A tight loop over a batch is
 * cheaper than one row per step of the caller's iteration, between the
 * `for await` machinery (MariaDB, 10,000 actions: 16.0 -> 14.4 ms a stream);
 * a batch this small holds next to nothing.
 */
const DECODE_BATCH = 128;

/**
 * The actions of a page's rows (columns in `selectActions`' order) that `keep`
 * keeps, decoded {@link DECODE_BATCH} rows at a time as the iteration reaches
 * them, each row let go once decoded: while a stream's caller works through a
 * page, only the rows not yet reached stay alive, and the decoded actions of
 * one batch besides. An iterator object, not a generator: with a generator V8
 * kept the decoded actions alive across young-generation collections (each
 * then copied megabytes), ten times the GC time of this loop. A row that fails
 * to decode ends its batch: the actions before it are delivered, then its
 * error is thrown, as when each row was decoded on its own.
 */
class DecodedRows implements Iterable<StoredAction>, Iterator<StoredAction> {
  /** The next row to decode. */
  #at = 0;
  readonly #batch: (IteratorResult<StoredAction> | undefined)[] = [];
  /** The next result of {@link #batch} to hand out. */
  #out = 0;
  /** What the row ending the batch threw, rethrown once the batch is handed out. */
  #failure: { readonly error: unknown } | undefined;

  constructor(
    readonly rows: unknown[][],
    readonly keep: ((kind: string, id: string) => boolean) | undefined,
  ) {}

  [Symbol.iterator](): Iterator<StoredAction> {
    return this;
  }

  next(): IteratorResult<StoredAction> {
    const batch = this.#batch;
    if (this.#out < batch.length || this.#decode()) {
      const result = batch[this.#out] as IteratorResult<StoredAction>;
      // Handed out: the caller holds it now, the batch no longer.
      batch[this.#out++] = undefined;
      return result;
    }
    const failure = this.#failure;
    if (failure !== undefined) {
      this.#failure = undefined;
      throw failure.error;
    }
    return { value: undefined, done: true };
  }

  /** Decodes the next batch; false when there is none to hand out. */
  #decode(): boolean {
    const { rows, keep } = this;
    const batch = this.#batch;
    batch.length = 0;
    this.#out = 0;
    if (this.#failure !== undefined) return false;
    while (this.#at < rows.length && batch.length < DECODE_BATCH) {
      const row = rows[this.#at] as unknown[];
      // Let go of the row: only the rows not yet reached stay alive.
      rows[this.#at++] = EMPTY_ROW;
      if (keep !== undefined && !keep(row[6] as string, row[7] as string)) continue;
      try {
        batch.push({ value: storedActionFromValues(row), done: false });
      } catch (error) {
        this.#failure = { error };
        break;
      }
    }
    return batch.length > 0;
  }
}

const EMPTY_ROW: unknown[] = [];

/** The write transaction of a SQL store: its session runs the statements of relations beyond the events (the keystore). */
export interface SqlWriteTx extends WriteTx {
  readonly session: SqlSession;
}

/**
 * The first seqNo of an append that committed after `head`, read back from
 * its statement `query`. Running the full rules when it was not read back
 * would write the history twice: that is a {@link DatabaseError}.
 */
function appendedAfter(head: number | undefined, query: string): number {
  if (head === undefined || !Number.isSafeInteger(head)) {
    throw new DatabaseError("the rebase committed, but the head it was numbered from was not read back", {
      cause: undefined,
      query,
    });
  }
  return head + 1;
}

/**
 * The conflicting action a refusal of the `storedAppend` routine answered
 * (the JSON array of its {@link STORED_THEIRS} columns; see `StoredAppend`),
 * undefined where it answered none. Anything else is a `DatabaseError`: the
 * routine wrote nothing, but what it found cannot be read.
 */
function theirsOf(value: unknown, call: Statement, head: number): EncodedEvent | undefined {
  if (value === null || value === undefined) return undefined;
  let v: unknown;
  try {
    v = typeof value === "string" ? JSON.parse(value) : undefined;
  } catch {
    v = undefined;
  }
  const base = call.parameters[0] as number;
  const texts = (list: unknown[], from: number, to: number) => list.slice(from, to).every((x) => typeof x === "string");
  if (
    !Array.isArray(v) ||
    v.length !== STORED_THEIRS.length ||
    !Number.isSafeInteger(v[0]) ||
    v[0] < base ||
    v[0] > head ||
    // A timestamp or source of null is an upgrade not finished (`actionFromValues` says so).
    (v[1] !== null && !Number.isSafeInteger(v[1])) ||
    (v[2] !== null && typeof v[2] !== "string") ||
    !texts(v, 3, 9) ||
    (v[9] !== null && typeof v[9] !== "string")
  ) {
    throw new DatabaseError(
      `the rebase was refused, and the routine answered a conflicting action it cannot have found: ${String(value).slice(0, 200)}`,
      { cause: undefined, query: call.sql },
    );
  }
  return actionFromValues(v);
}

/** A refusal of the statements' guard, which tells no head. */
const REFUSED: Refused = { refused: true };

/** How long a store appends with statements after a call found its `storedAppend` routine unavailable. */
const STORED_RETRY_MS = 60_000;

/**
 * The SQL store: every query is built once here, dialect-agnostic, with Kysely
 * as a compiler; a dialect declares what differs and its driver runs the SQL.
 */
export class SqlBackend implements Backend {
  readonly refusesTakenSeqNos = true;
  readonly appendOnHead?: Backend["appendOnHead"];
  readonly firstConflictsUnlocked?: Backend["firstConflictsUnlocked"];
  /** The driver's sessions cannot queue statements: {@link #appendOnHead} cannot take one round trip. */
  #queuesNothing = false;
  /**
   * The dialect's `storedAppend` routine, where the driver can call it: its
   * name, the text of its call (built once: a rebase only binds values), and
   * the statement that makes it where each session makes it for itself
   * (`StoredAppend.perSession`).
   */
  readonly #stored: { readonly name: string; readonly call: string; readonly setup?: Statement } | undefined;
  /** After a call found the routine unavailable: when to call it again (`performance.now()`). */
  #storedAgainAt: number | undefined;
  get readsAhead(): boolean {
    return this.dialect.readsAhead;
  }
  get aheadPageSize(): number | undefined {
    return this.dialect.aheadPageSize;
  }
  get pollCeilingMs(): number | undefined {
    return this.dialect.pollCeilingMs;
  }
  /** A Kysely that only compiles: the drivers execute, with their own prepared statements. */
  readonly db: Kysely<Schema>;
  readonly #inserts = new Map<string, CompiledQuery>();
  /** The dialect's {@link SqlDialect.textOf}, for the page queries. */
  readonly #textOf: TextOf | undefined;

  /** The dialect's driver, behind a {@link ClosingDriver}: every user of the store's connections goes through it. */
  readonly driver: SqlDriver;

  constructor(
    readonly dialect: SqlDialect,
    driver: SqlDriver,
    readonly tables: TableNames,
  ) {
    this.driver = new ClosingDriver(driver);
    this.db = new Kysely<Schema>({
      dialect: {
        createAdapter: () => dialect.createAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => dialect.createIntrospector(db),
        createQueryCompiler: () => dialect.createQueryCompiler(),
      },
      plugins: [renameTables(tables)],
    });
    this.#textOf = dialect.textOf?.bind(dialect);
    const stored = dialect.storedAppend;
    if (stored && this.driver.call) {
      const name = stored.name(tables);
      const setup = stored.perSession ? { sql: stored.create(tables, name), parameters: [] } : undefined;
      this.#stored = { name, call: stored.call(name), setup };
    }
    const headless = dialect.headless;
    if (headless) {
      this.appendOnHead = (base, events, aggregates, resolved) =>
        this.#appendOnHead(headless, base, events, aggregates, resolved);
      this.firstConflictsUnlocked = async (base, aggregates, resolved, known) => {
        // Bound by the head, every statement reads the store as it stood at that head.
        const arrays = this.dialect.conflictGuard === "per-aggregate";
        if (!arrays && firstConflictsParameters(1, resolved.length, true) > this.dialect.maxParameters)
          return undefined;
        return this.driver.read(async (s) => {
          const head = known ?? (await this.#head(s));
          return { conflicts: await this.#firstConflicts(s, base, aggregates, resolved, head), next: head + 1 };
        });
      };
    }
  }

  async initSchema(): Promise<void> {
    const statements = createSchemaQueries(this.db, this.dialect, this.tables);
    await this.driver.migrate(async (s) => {
      // The schema of a newer release is left as it is: its version is read before anything changes.
      const metaRelation = derivedName(this.tables, "meta");
      const hasMeta = (await s.all(this.dialect.columnsQuery(this.db as Kysely<unknown>, metaRelation))).length > 0;
      // The driver's migration lock makes this read-then-insert safe between processes.
      const meta = hasMeta ? await this.#metaRows(s) : new Map<string, number>();
      const version = meta.get(META.schemaVersion);
      if (version !== undefined && version > SCHEMA_VERSION) {
        throw new DatabaseError(
          `the schema has version ${version}, newer than this release of coherence-store knows (${SCHEMA_VERSION})`,
          { cause: undefined, code: "schema-version" },
        );
      }
      // An action relation of schema version 1 gets its events' timestamps and sources.
      const columns = await s.all<Column>(this.dialect.columnsQuery(this.db as Kysely<unknown>, this.tables.action));
      const upgrade =
        columns.length > 0 ? this.dialect.eventColumnsUpgrade(this.tables, columns) : { before: [], after: [] };
      for (const sql of upgrade.before) await s.run({ sql, parameters: [] });
      for (const statement of statements) await s.run(statement);
      for (const sql of upgrade.after) await s.run({ sql, parameters: [] });
      const legacy = this.dialect.legacyColumnsQuery?.(this.db as Kysely<unknown>, relationNames(this.tables));
      if (legacy !== undefined) {
        const rows = await s.all(legacy);
        for (const sql of this.dialect.upgradeStatements?.(rows) ?? []) await s.run({ sql, parameters: [] });
      }
      // Earlier releases made foreign keys between the relations; every insert paid for their checks.
      const keys = this.dialect.foreignKeysQuery?.(this.db as Kysely<unknown>, legacyForeignKeys(this.tables));
      if (keys !== undefined) {
        for (const key of await s.all<ForeignKey>(keys)) {
          const sql = this.dialect.dropForeignKey?.(key);
          if (sql !== undefined) await s.run({ sql, parameters: [] });
        }
      }
      if (version === undefined) await s.run(insertMetaQuery(this.db, META.schemaVersion, SCHEMA_VERSION));
      else if (version < SCHEMA_VERSION) await s.run(updateMetaQuery(this.db, META.schemaVersion, SCHEMA_VERSION));
      if (!meta.has(META.writeLock)) await s.run(insertMetaQuery(this.db, META.writeLock, 0));
      // Where the user may not create it, the driver goes on without it (see `StoredAppend`).
      const stored = this.dialect.storedAppend;
      if (stored && !stored.perSession && this.#stored !== undefined) {
        const mode = stored.sqlMode;
        if (mode) await s.run({ sql: mode.set, parameters: [] });
        try {
          await s.run({ sql: stored.create(this.tables, this.#stored.name), parameters: [] });
        } finally {
          if (mode) await s.run({ sql: mode.restore, parameters: [] });
        }
        // Made now, if a call found it missing before.
        this.#storedAgainAt = undefined;
      }
    });
  }

  /** The rows of the meta relation, by name. */
  async #metaRows(s: SqlSession): Promise<Map<string, number>> {
    const rows = await s.all<{ name: string; value: number }>(metaRowsQuery(this.db));
    return new Map(rows.map((r) => [r.name, Number(r.value)]));
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    return this.driver.write((s) => fn(this.#tx(s)), commit);
  }

  #tx(s: SqlSession): SqlWriteTx {
    return {
      session: s,
      nextSeqNo: async () => (await this.#head(s)) + 1,
      firstConflicts: (base, aggregates, resolved) => this.#firstConflicts(s, base, aggregates, resolved),
      readEvents: (seqNos) => this.#readEvents(s, seqNos),
      append: (events, record) => this.#append(s, events, record),
      findRebase: async (id) => {
        const [row] = await s.all<{ digest: string; first_seq_no: number; count: number }>(
          findRebaseQuery(this.db, id),
        );
        if (row === undefined) return undefined;
        return { id, digest: row.digest, firstSeqNo: Number(row.first_seq_no), count: Number(row.count) };
      },
    };
  }

  async #head(s: SqlSession): Promise<number> {
    const [row] = await s.all<{ head: unknown }>(headQuery(this.db));
    return headOf(row);
  }

  async #firstConflicts(
    s: SqlSession,
    base: number,
    aggregates: readonly EncodedIdentity[],
    resolved: readonly number[],
    until?: number,
  ): Promise<Map<string, number>> {
    const wanted = new Set(aggregates.map((a) => a.key));
    const bounded = until !== undefined;
    if (this.dialect.conflictGuard === "per-aggregate") {
      // Arrays: one statement whatever the numbers of aggregates and resolved seqNos.
      const query = firstConflictsPerAggregateQuery(this.db, base, aggregates, resolved, until);
      return firstByAggregate(await s.all<FirstConflictRow>(query), wanted, new Map());
    }
    if (firstConflictsParameters(1, resolved.length, bounded) > this.dialect.maxParameters) {
      if (bounded) throw new Error("a bounded conflict check needs room for its bounds");
      return this.#firstConflictsUnbound(s, base, aggregates, new Set(resolved));
    }
    const room = this.dialect.maxParameters - firstConflictsParameters(0, resolved.length, bounded);
    // At most 500 aggregates a statement: SQLite nests the OR of their identities 500 deep (its limit is 1000).
    const size = Math.max(1, Math.min(500, Math.floor(room / 6)));
    const out = new Map<string, number>();
    for (const chunk of distinctHashRounds(aggregates).flatMap((round) => chunks(round, size))) {
      firstByAggregate(
        await s.all<FirstConflictRow>(firstConflictsQuery(this.db, base, chunk, resolved, until)),
        wanted,
        out,
      );
    }
    return out;
  }

  /**
   * The first conflicts when `resolved` (raised `limits.resolvedLength`) is too long to bind
   * in one statement: each aggregate's conflicts are read and the resolved ones skipped here.
   */
  async #firstConflictsUnbound(
    s: SqlSession,
    base: number,
    aggregates: readonly EncodedIdentity[],
    resolved: ReadonlySet<number>,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const aggregate of aggregates) {
      const rows = await s.all<{ seq_no: number }>(conflictsQuery(this.db, base, aggregate));
      const first = rows.map((r) => Number(r.seq_no)).find((seqNo) => !resolved.has(seqNo));
      if (first !== undefined) out.set(aggregate.key, first);
    }
    return out;
  }

  async #readEvents(s: SqlSession, seqNos: readonly number[]): Promise<EncodedEvent[]> {
    const out: EncodedEvent[] = [];
    for (const chunk of chunks(seqNos, 1000)) {
      const rows = await s.all<EventRow>(readEventsQuery(this.db, chunk));
      for (const row of rows) out.push(eventFromRow(row));
    }
    return out;
  }

  /** An INSERT compiled once per shape (`key`), in a bounded cache. */
  #cachedInsert(key: string, compile: () => CompiledQuery): CompiledQuery {
    let q = this.#inserts.get(key);
    if (!q) {
      q = compile();
      if (this.#inserts.size > 256) this.#inserts.clear();
      this.#inserts.set(key, q);
    }
    return q;
  }

  /** With `keptHead`, the rows' seqNos are their parameter + the kept head (see {@link HeadlessAppend}). */
  #insert(table: "events" | "actions" | "effects" | "triggers", count: number, keptHead?: string): CompiledQuery {
    const key = `${table}:${count}${keptHead === undefined ? "" : ":headless"}`;
    return this.#cachedInsert(key, () => insertQuery(this.db, table, count, keptHead));
  }

  /** The {@link combinedInsertQuery} for these row counts. */
  #combined(counts: { [T in (typeof TABLES)[number]]: number }, keptHead?: string): CompiledQuery {
    const key = `with:${counts.events}:${counts.actions}:${counts.effects}:${counts.triggers}${keptHead === undefined ? "" : ":headless"}`;
    return this.#cachedInsert(key, () => combinedInsertQuery(this.db, counts, keptHead));
  }

  async #append(s: SqlSession, events: readonly EncodedEvent[], record?: RebaseRecord): Promise<void> {
    // First: without parameters, the notification goes out with the statements before it (it is sent on commit).
    await this.#notify(s);
    await this.#appendRows(s, appendRows(events), record);
  }

  /** Queues the dialect's commit notification in the write transaction, where it has one. */
  async #notify(s: SqlSession): Promise<void> {
    if (this.dialect.notifyStatement) await this.#send(s, this.dialect.notifyStatement(this.notifyChannel));
  }

  /** Appends the rows; with `keptHead` their seqNos are offsets from the kept head (see {@link HeadlessAppend}). */
  async #appendRows(
    s: SqlSession,
    rows: ReturnType<typeof appendRows>,
    record?: RebaseRecord,
    keptHead?: string,
  ): Promise<void> {
    const counts = {
      events: rows.events.length,
      actions: rows.actions.length,
      effects: rows.effects.length,
      triggers: rows.triggers.length,
    };
    const parameters = TABLES.reduce((n, t) => n + counts[t] * columnCount(t), 0);
    if (
      this.dialect.insertsWithCtes &&
      parameters <= this.dialect.maxParameters &&
      TABLES.every((t) => counts[t] <= 1000)
    ) {
      // One statement for the whole batch, where it fits in one.
      const sql = this.#combined(counts, keptHead).sql;
      const values: unknown[] = [];
      for (const t of TABLES) flatInto(values, rows[t]);
      await this.#send(s, { sql, parameters: values });
    } else await this.#appendByTable(s, rows, keptHead);
    if (record) await this.#send(s, insertRebaseQuery(this.db, record));
  }

  /**
   * {@link Backend.appendOnHead} where the dialect has a {@link HeadlessAppend}:
   * the lock, the head, the guards, the rows and COMMIT in one round trip.
   */
  async #appendOnHead(
    headless: HeadlessAppend,
    base: number,
    events: readonly EncodedEvent[],
    aggregates: readonly EncodedIdentity[],
    resolved: readonly number[],
  ): Promise<number | Refused | undefined> {
    const call = this.#storedCall(base, events, resolved);
    if (call !== undefined) {
      const next = await this.#appendStored(call);
      if (next !== undefined) return next;
    }
    // The conflict guard is one statement: its aggregates must fit in one.
    if (
      this.#queuesNothing ||
      aggregates.length > 500 ||
      // The guard binds the base too.
      firstConflictsParameters(aggregates.length, resolved.length) + 1 > this.dialect.maxParameters
    ) {
      return undefined;
    }
    // Numbered from 1: the inserts add the kept head.
    const rows = appendRows(events.map((e, i) => ({ ...e, seqNo: i + 1 })));
    let head: number | undefined;
    try {
      const queued = await this.driver.write(
        async (s) => {
          const take = (r: unknown[]) => {
            head = Number((r[0] as { head: unknown } | undefined)?.head);
          };
          if (!s.deferRows || !s.defer?.(headless.keepHead(headQuery(this.db)))) return false;
          await this.#notify(s);
          const conflicts = aggregates.length > 0 ? this.#anyConflict(base, aggregates, resolved) : undefined;
          s.deferRows(headless.guard(base, conflicts), take);
          await this.#appendRows(s, rows, undefined, headless.keptHeadSql);
          return true;
        },
        (queued) => queued,
      );
      if (!queued) {
        this.#queuesNothing = true;
        return undefined;
      }
    } catch (error) {
      if (error instanceof DatabaseError && error.dbCode === headless.failure) return REFUSED;
      throw error;
    }
    return appendedAfter(head, headless.guard(base, undefined).sql);
  }

  /**
   * True when {@link appendOnHead} appends `events` in one call of the
   * dialect's `storedAppend` routine: one action without triggers, nothing
   * resolved. That call costs the server what an append on the head the
   * writer saw costs, and is not refused when another writer committed
   * since, so the rebase rules skip that append (`Backend.appendsInOneCall`).
   */
  appendsInOneCall(events: readonly EncodedEvent[], resolved: readonly number[]): boolean {
    return this.#storedCall(0, events, resolved) !== undefined;
  }

  /** The call of the dialect's `storedAppend` routine that appends `events` on `base`, where it can. */
  #storedCall(base: number, events: readonly EncodedEvent[], resolved: readonly number[]): Statement | undefined {
    const stored = this.#stored;
    if (stored === undefined || events.length !== 1 || resolved.length > 0) return undefined;
    if (this.#storedAgainAt !== undefined) {
      if (performance.now() < this.#storedAgainAt) return undefined;
      this.#storedAgainAt = undefined;
    }
    const parameters = appendOneParameters(base, events[0] as EncodedEvent);
    return parameters && { sql: stored.call, parameters };
  }

  /**
   * Runs a {@link #storedCall}: the first seqNo it appended, {@link Refused}
   * with the head it read, or undefined when the routine cannot be called
   * here (then the store stops calling it, and the statements append).
   */
  async #appendStored(call: Statement): Promise<number | Refused | undefined> {
    const stored = this.dialect.storedAppend as StoredAppend;
    let rows: unknown[];
    try {
      rows = await (this.driver.call as NonNullable<SqlDriver["call"]>)(call, this.#stored?.setup);
    } catch (error) {
      if (!(error instanceof DatabaseError) || error instanceof WriteConflictError) throw error;
      if (error.dbCode !== undefined && stored.unavailable.has(error.dbCode)) {
        // Another process's initSchema may make it (or grant it) later: the store asks again after a while.
        this.#storedAgainAt = performance.now() + STORED_RETRY_MS;
        return undefined;
      }
      throw error;
    }
    const row = rows[0] as { head?: unknown; refused?: unknown; theirs?: unknown } | undefined;
    const refused = row?.refused;
    if (refused === true || refused === 1) {
      // It wrote nothing, and read the head under the write lock.
      const head = Number(row?.head);
      if (!Number.isSafeInteger(head)) return REFUSED;
      const theirs = theirsOf(row?.theirs, call, head);
      return theirs === undefined ? { refused: true, head } : { refused: true, head, theirs };
    }
    if (refused !== false && refused !== 0) {
      // Whether it committed is unknown: neither the full rules nor a success can follow.
      throw new DatabaseError(
        `the rebase's outcome is unknown: the routine answered refused = ${JSON.stringify(refused)}`,
        { cause: undefined, query: call.sql },
      );
    }
    return appendedAfter(row?.head === undefined ? undefined : Number(row.head), call.sql);
  }

  /** The guard's conflict check, in the form the dialect plans well (`SqlDialect.conflictGuard`). */
  #anyConflict(base: number, aggregates: readonly EncodedIdentity[], resolved: readonly number[]): CompiledQuery {
    const form = this.dialect.conflictGuard;
    if (form === "per-aggregate") return anyConflictPerAggregateQuery(this.db, base, aggregates, resolved);
    if (form === "coarse") return anyChangeQuery(this.db, base, aggregates, resolved);
    return anyConflictQuery(this.db, base, aggregates, resolved);
  }

  /** Each table's rows in multi-row INSERTs (or one prepared INSERT per row, where the dialect prefers it). */
  async #appendByTable(s: SqlSession, rows: ReturnType<typeof appendRows>, keptHead?: string): Promise<void> {
    for (const table of TABLES) {
      const list = rows[table];
      if (list.length === 0) continue;
      if (this.dialect.singleRowInserts) {
        const sql = this.#insert(table, 1, keptHead).sql;
        if (s.runEach) await s.runEach(sql, list);
        else for (const parameters of list) await this.#send(s, { sql, parameters });
        continue;
      }
      const per = Math.max(1, Math.min(1000, Math.floor(this.dialect.maxParameters / columnCount(table))));
      const maxBytes = Math.min(this.dialect.maxStatementBytes, s.maxStatementBytes ?? Number.POSITIVE_INFINITY);
      for (const chunk of boundedChunks(list, per, maxBytes)) {
        const statement = { sql: this.#insert(table, chunk.length, keptHead).sql, parameters: flatInto([], chunk) };
        // A full chunk of a large insert goes prepared where the session can: one statement text per
        // relation, and no value formatted into it (MariaDB, 10,000 rows: 81 against 165-183 ms).
        if (s.runPrepared && chunk.length === per && per >= PREPARED_ROWS) await s.runPrepared(statement);
        else await this.#send(s, statement);
      }
    }
  }

  /** Runs a statement whose result nothing reads: in the session's next round trip where it can go there. */
  async #send(s: SqlSession, statement: Statement): Promise<void> {
    if (!s.defer?.(statement)) await s.run(statement);
  }

  async patchPage(aggregate: EncodedIdentity, after: number, until: number, limit: number): Promise<PatchPage> {
    const inSql = this.dialect.identityInSql;
    const statement = patchPageQuery(this.db, aggregate, after, until, limit, this.#textOf, inSql);
    const rows = await this.driver.read((s) => arrays(s, statement));
    const patches: [number, string][] = [];
    if (inSql) {
      // The SQL compared kind and id, exactly: rows are [seq_no, patch].
      for (const [seqNo, patch] of rows as [number, string][]) patches.push([Number(seqNo), patch]);
    } else {
      // The hash matched; the kind and id are compared here, exactly.
      for (const [seqNo, kind, id, patch] of rows as [number, string, string, string][]) {
        if (kind === aggregate.kind && id === aggregate.id) patches.push([Number(seqNo), patch]);
      }
    }
    const last = rows.length > 0 ? Number(rows[rows.length - 1]?.[0]) : until;
    return { patches, last, done: rows.length < limit };
  }

  readEvents(seqNos: readonly number[]): Promise<EncodedEvent[]> {
    return this.driver.read((s) => this.#readEvents(s, seqNos));
  }

  head(): Promise<number> {
    return this.driver.read((s) => this.#head(s));
  }

  async #page(
    statement: CompiledQuery<ActionRow>,
    query: ActionFilter & { limit: number },
    end: number,
  ): Promise<ActionPage> {
    const rows = await this.driver.read((s) => arrays(s, statement));
    const last = rows.length > 0 ? Number((rows[rows.length - 1] as unknown[])[0]) : end;
    return {
      actions: new DecodedRows(rows, exactFilter(query)),
      last,
      done: rows.length < query.limit || last >= end,
    };
  }

  async actionPage(query: ActionPageQuery): Promise<ActionPage> {
    if (query.aggregates === undefined && query.kinds === undefined && query.until !== UNBOUNDED) {
      // Unfiltered pages up to a head read a range of seqNos, not a count of rows: seqNos are gapless,
      // so (after, after + limit] holds at most `limit` rows, and the range bounds the scan however
      // stale the planner's statistics. Without a head a range page could not tell the end of its
      // snapshot from effects: an UNBOUNDED page counts rows, and a short one is the end.
      const until = Math.min(query.until, query.after + query.limit);
      const statement = actionPageQuery(
        this.db,
        query,
        query.after,
        until,
        query.limit,
        this.#textOf,
        this.dialect.identityIndex,
      );
      const page = await this.#page(statement, query, until);
      return { actions: page.actions, last: until, done: until >= query.until };
    }
    const statement = actionPageQuery(
      this.db,
      query,
      query.after,
      query.until,
      query.limit,
      this.#textOf,
      this.dialect.identityIndex,
    );
    return this.#page(statement, query, query.until);
  }

  async headAndEffects(from: number): Promise<HeadAndEffects> {
    const [row] = await this.driver.read((s) =>
      s.all<{ head: unknown; effects: unknown }>(headAndEffectsQuery(this.db, from)),
    );
    // EXISTS is a boolean on PostgreSQL, 0 or 1 on SQLite and MySQL.
    return { head: headOf(row), effects: Number(row?.effects ?? 0) === 1 };
  }

  replayPage(query: ReplayPageQuery): Promise<ActionPage> {
    const { offset, head, after, limit } = query;
    const statement = replayPageQuery(
      this.db,
      query,
      offset,
      head,
      after,
      limit,
      this.#textOf,
      this.dialect.identityIndex,
    );
    return this.#page(statement, query, query.offset - 1);
  }

  conflicts(offset: number, aggregate: EncodedIdentity): Promise<EncodedEvent[]> {
    return this.driver.read(async (s) => {
      const rows = await s.all<{ seq_no: number }>(conflictsQuery(this.db, offset, aggregate));
      return this.#readEvents(
        s,
        rows.map((r) => Number(r.seq_no)),
      );
    });
  }

  /** The in-process wake-up channel of followers: this database and event relation. */
  get channel(): string | undefined {
    const database = this.driver.database;
    return database === undefined ? undefined : `${this.dialect.name}\u0000${database}\u0000${this.tables.event}`;
  }

  /** The database notification channel of commits to this event relation. */
  get notifyChannel(): string {
    return derivedName(this.tables, "commits");
  }

  watch(onCommit: () => void, onError: (error: unknown) => void): () => void {
    return this.driver.subscribe?.(this.notifyChannel, onCommit, onError) ?? (() => {});
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
