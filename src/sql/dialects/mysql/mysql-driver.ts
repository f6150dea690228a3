import type { CompiledQuery } from "kysely";
import type mysql from "mysql2";
import { DatabaseError, ValidationError } from "../../../model/errors.js";
import { type SqlDriver, type SqlSession, type Statement, valueBytes } from "../../dialect.js";
import { once, packages } from "../packages.js";
import { COMMIT, type PROBE_AFTER_IDLE_MS, ReleaseTimes, type ServerTarget, serverTarget } from "../server-target.js";
import { asBytes, ER_SIGNAL_EXCEPTION, forMysql, MAX_STATEMENT_BYTES, NO_WRITE_LOCK } from "./mysql-dialect.js";
import { isMysqlConnectionError, mapMysqlError, mysqlConnectionError } from "./mysql-errors.js";
import { formatSql, type SqlMode, sqlModeOf } from "./mysql-format.js";

/**
 * Options of the MySQL/MariaDB store, passed to `mysql2.createPool(...)`
 * (`connectionLimit`, `connectTimeout`, `ssl`, …); the URL gives host, port,
 * user, password and database. `multipleStatements` is true unless given:
 * a write then takes one round trip (values are still escaped by mysql2);
 * with `false`, each statement takes its own.
 */
export type MysqlOptions = Omit<mysql.PoolOptions, "uri">;

type Callback<T> = (error: (Error & { code?: string }) | null, result: T, fields?: unknown) => void;

/** A connection of a {@link MysqlPool}: the slice of mysql2's callback `PoolConnection` the store uses. */
export interface MysqlConnection {
  /** mysql2's settings of the connection: its `timezone` writes Dates given to `ctx.sql`. */
  readonly config?: { readonly timezone?: string };
  query(options: mysql.QueryOptions, callback: Callback<unknown>): unknown;
  /** A prepared statement's query (the binary protocol): reads, and large inserts, use it where the connection has it. */
  execute?(options: mysql.QueryOptions, callback: Callback<unknown>): unknown;
  release(): void;
  destroy(): void;
}

/** The slice of mysql2's callback pool the store uses: a pool the application already has qualifies. */
export interface MysqlPool {
  getConnection(callback: Callback<MysqlConnection>): void;
  end(callback?: (error?: unknown) => void): void;
}

/** A pool of `mysql2` or of `mysql2/promise` (which wraps the callback pool as `.pool`). */
export type MysqlPoolLike = MysqlPool | { readonly pool: MysqlPool };

/**
 * Per query, so that the application's pool settings change nothing: BIGINT
 * as a JS number (every BIGINT the store keeps is a safe integer), and the
 * bytes of the binary columns as the UTF-8 text they were written as.
 */
const typeCast: mysql.TypeCast = (field, next) => {
  if (field.type === "LONGLONG") {
    const text = field.string("ascii");
    return text === null ? null : Number(text);
  }
  const value: unknown = next();
  return Buffer.isBuffer(value) ? value.toString("utf8") : value;
};

const BINARY_CHARSET = 63;

/**
 * The collations of utf8mb4 (text results in one of them are the UTF-8 the
 * store wrote, unchanged), and the types of the columns mysql2 returns as
 * Buffers in the binary character set (the rest are numbers, dates): read off
 * mysql2 once it is loaded.
 */
const charsets = once(() => {
  const { Charsets, Types } = packages.mysql2();
  return {
    utf8mb4: new Set(
      Object.entries(Charsets)
        .filter(([name]) => name.startsWith("UTF8MB4"))
        .map(([, collation]) => collation),
    ),
    byteTypes: new Set<number>([
      Types.VARCHAR,
      Types.TINY_BLOB,
      Types.MEDIUM_BLOB,
      Types.LONG_BLOB,
      Types.BLOB,
      Types.VAR_STRING,
      Types.STRING,
    ]),
  };
});

/**
 * Rows as arrays, whatever the pool's own row options (`nestTables` would
 * turn them into objects keyed by relation).
 */
const ARRAYS = { rowsAsArray: true, nestTables: false } as const;

/**
 * Statements a connection keeps prepared for reads at most: MySQL caps them
 * for the whole server (`max_prepared_stmt_count`, 16,382 by default), and a
 * filtered stream's shape depends on its list's length. Past it, reads take
 * the text protocol.
 */
const MAX_PREPARED = 32;
const prepared = new WeakMap<MysqlConnection, Set<string>>();

/** True when `connection` runs `sql` as a prepared statement: it has one already, or room for one. */
function preparedFor(connection: MysqlConnection, sql: string): boolean {
  if (connection.execute === undefined) return false;
  let statements = prepared.get(connection);
  if (statements === undefined) {
    statements = new Set();
    prepared.set(connection, statements);
  }
  if (statements.has(sql)) return true;
  if (statements.size >= MAX_PREPARED) return false;
  statements.add(sql);
  return true;
}

// A lock name is at most 64 characters and spans the server: the database and the event relation name it.
const LOCK_NAME = "concat('coherence:', left(sha2(concat_ws('.', database(), ?), 256), 40))";
const MIGRATION_LOCK_SECONDS = 60;
/** How long a scrub's rebuild waits for other sessions' locks on the key relation (as on PostgreSQL). */
const SCRUB_WAIT_SECONDS = 2;
const ER_DUP_KEYNAME = "ER_DUP_KEYNAME";
/**
 * The write lock's statement adds 1 to this when the write-lock row is
 * missing, which fails it (ER_DATA_OUT_OF_RANGE): the statements of the
 * transaction travel with it in one round trip, and without the row they
 * would run, up to COMMIT, without the lock.
 */
const LOCK_MISSING = "9223372036854775807";

/**
 * The error to report when the write lock's statement failed for want of its
 * row, or the dialect's `storedAppend` routine reported it missing.
 */
function missingLock(error: unknown, query: string): DatabaseError | undefined {
  if (!(error instanceof DatabaseError)) return undefined;
  // The server's own text: the error's message has the password blanked out.
  const raw = error.cause as { errno?: unknown; sqlMessage?: unknown } | undefined;
  const message = typeof raw?.sqlMessage === "string" ? raw.sqlMessage : "";
  const missing =
    (error.dbCode === "ER_DATA_OUT_OF_RANGE" && message.includes(`${LOCK_MISSING} + `)) ||
    (raw?.errno === ER_SIGNAL_EXCEPTION && message === NO_WRITE_LOCK);
  if (!missing) return undefined;
  return new DatabaseError("the store's write-lock row is missing: run initSchema() first", { cause: error, query });
}

/** A CALL: the routine may commit, as a COMMIT does (see `Session.#committing`). */
const CALL = /^\s*call\b/i;
/**
 * What a migration's `create procedure` may meet and go on: the routine is
 * there already (another process made it), or the user may not create
 * routines (no CREATE ROUTINE; MySQL's binary log without SUPER). The store
 * then appends with statements (see `StoredAppend`).
 */
const ROUTINE_NOT_MADE = new Set([
  "ER_SP_ALREADY_EXISTS",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_PROCACCESS_DENIED_ERROR",
  "ER_BINLOG_CREATE_ROUTINE_NEED_SUPER",
]);

function quote(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new Error(`not a checked relation name: ${name}`);
  return `\`${name}\``;
}

/**
 * A statement waiting in a session's outbox: queued for the next round trip
 * (no `resolve`), or a query whose caller awaits its rows.
 */
interface Outgoing {
  readonly statement: Statement | CompiledQuery;
  readonly rowsAsArray: boolean;
  /** What must hold of the statement's rows; its failure fails the round trip. */
  readonly check?: ((rows: unknown[]) => void) | undefined;
  readonly resolve?: (rows: unknown[]) => void;
  readonly reject?: (error: unknown) => void;
}

/**
 * The {@link SessionSettings} of each connection, read on its first use. A
 * session that changes them later (an application's `SET sql_mode` or `SET
 * NAMES` on a pooled connection) is not seen.
 */
const sessionSettings = new WeakMap<MysqlConnection, SessionSettings>();

/** What the store must know of a session, read once per connection (see {@link Session.readSettings}). */
interface SessionSettings {
  readonly mode: SqlMode;
  /** `autocommit` is off: a read would leave a transaction (and its snapshot) open on the pooled connection. */
  readonly autocommitOff: boolean;
  /** The session's isolation is READ UNCOMMITTED: an autocommit read would see rows of writes still in flight. */
  readonly readUncommitted: boolean;
  /**
   * The session's `character_set_results` when it is neither utf8mb4 nor NULL
   * (latin1, utf8mb3, …): the server would convert every text column to it, and
   * a character it lacks would come back as `?`. The store's calls run with
   * NULL (the columns' own utf8mb4) and set it back before the connection
   * returns to the pool.
   */
  readonly results: string | undefined;
  /** The most a statement's values may add up to (see {@link valueBytes}) for the session's max_allowed_packet. */
  readonly maxStatementBytes: number;
}

/** Room in a packet for a statement's SQL around its values (a 1,000-row insert's text, numbers as digits). */
const PACKET_SLACK = 256 * 1024;

/** The session variables {@link SessionSettings} come from (MariaDB and MySQL 5.7 name the isolation `tx_isolation`). */
const SETTINGS_QUERY =
  "show session variables where variable_name in ('sql_mode', 'autocommit', 'tx_isolation', 'transaction_isolation', 'character_set_client', 'character_set_connection', 'character_set_results', 'max_allowed_packet')";

/**
 * What {@link MAX_STATEMENT_BYTES} is for a 16 MiB packet, for the session's: a
 * UTF-16 unit takes at most 4 bytes of escaped text (3 of UTF-8, 2 for an escaped
 * ASCII character, 4 for a surrogate pair), and 6 as a hex literal (see `SqlMode.utf8mb4`).
 */
function statementBytes(packet: number, utf8mb4: boolean): number {
  if (!Number.isSafeInteger(packet) || packet <= 0) return MAX_STATEMENT_BYTES;
  return Math.max(1, Math.min(MAX_STATEMENT_BYTES, Math.floor((packet - PACKET_SLACK) / (utf8mb4 ? 4 : 6))));
}

function settingsOf(rows: readonly { Variable_name?: unknown; Value?: unknown }[]): SessionSettings {
  const v = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? "")]));
  const utf8mb4 = ["character_set_client", "character_set_connection"].every(
    (name) => (v.get(name) ?? "utf8mb4").toLowerCase() === "utf8mb4",
  );
  const isolation = (v.get("transaction_isolation") ?? v.get("tx_isolation") ?? "").toUpperCase();
  const results = v.get("character_set_results") ?? "";
  return {
    mode: { ...sqlModeOf(v.get("sql_mode")), utf8mb4 },
    autocommitOff: /^(0|off)$/i.test(v.get("autocommit") ?? "1"),
    readUncommitted: isolation === "READ-UNCOMMITTED",
    results: /^(utf8mb4|binary|null)?$/i.test(results) || !/^[A-Za-z0-9_]+$/.test(results) ? undefined : results,
    maxStatementBytes: statementBytes(Number(v.get("max_allowed_packet")), utf8mb4),
  };
}

class Session implements SqlSession {
  #sent = 0;
  /** The connection's settings, once read (see {@link readSettings}); its {@link SqlMode} writes the values. */
  settings: SessionSettings | undefined;

  /** See {@link SqlSession.maxStatementBytes}. */
  get maxStatementBytes(): number {
    return this.settings?.maxStatementBytes ?? MAX_STATEMENT_BYTES;
  }
  readonly #outbox: Outgoing[] = [];
  #flushing = false;
  /**
   * True when the session's first statement failed because the connection was
   * already gone (an idle connection of the pool whose server restarted):
   * nothing of the call ran, so it may run again on another connection.
   */
  deadOnArrival = false;
  /** A ROLLBACK failed: the connection is destroyed rather than given back to the pool. */
  unusable = false;
  /**
   * A COMMIT has been sent. From then on a lost connection says nothing of
   * the outcome (the server may have committed before the answer was lost),
   * so the call is never run again: the caller gets the ConnectionError.
   */
  #committing = false;

  /**
   * @param multipleStatements the connection takes several statements in one query
   *   (mysql2's `multipleStatements`): then queued statements, and queries
   *   asked for in the same tick, travel together in one round trip.
   * @param textReads the connection answers in utf8mb4 and casts no types of its own (no
   *   `typeCast` function), so {@link values} reads the text columns as they are.
   * @param probe the connection was idle for {@link PROBE_AFTER_IDLE_MS} or more: a
   *   write's opening statements take a round trip of their own.
   */
  constructor(
    readonly connection: MysqlConnection,
    readonly target: ServerTarget,
    readonly multipleStatements: boolean,
    readonly tolerate?: (error: { code?: string }, sql: string) => boolean,
    readonly textReads = false,
    readonly probe = false,
  ) {}

  all<R>(q: Statement | CompiledQuery, rowsAsArray = false): Promise<R[]> {
    if (!this.multipleStatements) return this.#send([{ statement: q, rowsAsArray }]) as Promise<R[]>;
    return new Promise<R[]>((resolve, reject) => {
      this.#outbox.push({ statement: q, rowsAsArray, resolve: resolve as (rows: unknown[]) => void, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => void this.#flush());
      }
    });
  }

  /**
   * Sends the outbox up to its last awaited query: in one query where the
   * statements' values fit in one packet and agree on the row form, else in
   * several, one after the other. A failure fails every query not yet answered.
   */
  async #flush(): Promise<void> {
    let last = this.#outbox.length - 1;
    while (last >= 0 && this.#outbox[last]?.resolve === undefined) last--;
    const batch = this.#outbox.splice(0, last + 1);
    this.#flushing = false;
    const groups: Outgoing[][] = [];
    let bytes = 0;
    for (const entry of batch) {
      const size = valueBytes(entry.statement.parameters);
      const group = groups[groups.length - 1];
      if (group && bytes + size <= this.maxStatementBytes && group[0]?.rowsAsArray === entry.rowsAsArray) {
        group.push(entry);
        bytes += size;
      } else {
        groups.push([entry]);
        bytes = size;
      }
    }
    for (const [i, group] of groups.entries()) {
      try {
        await this.#send(group);
      } catch (error) {
        for (const entry of groups.slice(i).flat()) entry.reject?.(error);
        return;
      }
    }
  }

  /** A statement's text with its values written in for this connection's mode (mysql2 only escapes for the default one). */
  #format(statement: Statement | CompiledQuery): string {
    const { parameters } = statement;
    if (parameters.length === 0) return statement.sql;
    if (this.settings === undefined) throw new Error("the session's sql_mode is not known yet");
    return formatSql(statement.sql, parameters, this.settings.mode, this.connection.config?.timezone);
  }

  /** Learns the connection's settings: from an earlier use of it, else by asking (once per connection). */
  async readSettings(): Promise<void> {
    let settings = sessionSettings.get(this.connection);
    if (settings === undefined) {
      settings = settingsOf((await this.exec(SETTINGS_QUERY)) as { Variable_name?: unknown; Value?: unknown }[]);
      sessionSettings.set(this.connection, settings);
    }
    this.settings = settings;
  }

  /** The error to report for a failed query; a dead connection found by the session's first one is noted. */
  #failure(error: Error & { code?: string }, sql: string, first: boolean): Error {
    if (first && !this.#committing && isMysqlConnectionError(error)) this.deadOnArrival = true;
    return mapMysqlError(error, this.target, sql);
  }

  /** Sends statements in one query; each awaited one gets its rows; resolves with the last one's. */
  #send(group: readonly Outgoing[]): Promise<unknown[]> {
    const first = this.#sent++ === 0;
    const sql =
      group.length === 1 ? (group[0] as Outgoing).statement.sql : group.map((e) => e.statement.sql).join(";\n");
    const text =
      group.length === 1
        ? this.#format((group[0] as Outgoing).statement)
        : group.map((e) => this.#format(e.statement)).join(";\n");
    const rowsAsArray = (group[0] as Outgoing).rowsAsArray;
    if (group.some((e) => COMMIT.test(e.statement.sql) || CALL.test(e.statement.sql))) this.#committing = true;
    return new Promise((resolve, reject) => {
      // Errors name `sql`, the statements without their values. `values: []` (nothing left to write in)
      // also keeps a pool's `namedPlaceholders` from parsing the text again.
      this.connection.query({ sql: text, values: [], typeCast, rowsAsArray, nestTables: false }, (error, rows) => {
        if (error) {
          if (this.tolerate?.(error, sql)) {
            for (const entry of group) entry.resolve?.([]);
            resolve([]);
            return;
          }
          reject(this.#failure(error, sql, first));
          return;
        }
        // Several statements give one result each, in order.
        const results = group.length === 1 ? [rows] : (rows as unknown[]);
        try {
          for (const [i, e] of group.entries()) e.check?.(asRows(results[i]));
        } catch (failure) {
          reject(failure);
          return;
        }
        for (const [i, e] of group.entries()) e.resolve?.(asRows(results[i]));
        resolve(asRows(results[results.length - 1]));
      });
    });
  }

  /**
   * Rows as arrays in column order: no object per row on the stream's pages.
   * Where the connection answers in utf8mb4 the rows are read as they are,
   * without a `typeCast` call per value, through a prepared statement; else
   * the string columns the dialect's `textOf` marked are read as their bytes
   * and decoded as for {@link all}.
   */
  values(q: Statement | CompiledQuery): Promise<unknown[][]> {
    // Statements waiting in the outbox go first, in order.
    // A session that does not read utf8mb4 gets its string values as text (see `SqlMode.utf8mb4`).
    if (!this.textReads || this.#outbox.length > 0 || this.settings?.mode.utf8mb4 === false) return this.#bytes(q);
    const first = this.#sent++ === 0;
    return new Promise((resolve, reject) => {
      const done: Callback<unknown> = (error, rows, fields) => {
        if (error) {
          reject(this.#failure(error, q.sql, first));
          return;
        }
        const result = textRows(asRows(rows) as unknown[][], fields as mysql.FieldPacket[] | undefined);
        // A connection switched to another character set since the pool was made: its text is not the bytes stored.
        if (result === undefined) this.#bytes(q).then(resolve, reject);
        else resolve(result);
      };
      if (preparedFor(this.connection, q.sql)) {
        this.connection.execute?.({ sql: q.sql, values: [...q.parameters], ...ARRAYS }, done);
      } else this.connection.query({ sql: this.#format(q), values: [], ...ARRAYS }, done);
    });
  }

  /** {@link values} of the bytes of the string columns, decoded by the `typeCast` of {@link all}. */
  #bytes(q: Statement | CompiledQuery): Promise<unknown[][]> {
    return this.all<unknown[]>({ sql: asBytes(q.sql), parameters: q.parameters }, true);
  }

  async run(q: Statement | CompiledQuery): Promise<void> {
    await this.all(q);
  }

  async runPrepared(statement: Statement): Promise<void> {
    const execute = this.connection.execute?.bind(this.connection);
    // The binary protocol sends strings in the session's character set: one that is not utf8mb4 gets text.
    if (execute === undefined || this.settings?.mode.utf8mb4 === false) return this.run(statement);
    // What is queued goes first, in one round trip; a check of its rows that fails fails here.
    if (this.#outbox.length > 0) await this.all({ sql: "do 0", parameters: [] });
    const first = this.#sent++ === 0;
    await new Promise<void>((resolve, reject) => {
      execute({ sql: statement.sql, values: [...statement.parameters] }, (error) => {
        if (error) reject(this.#failure(error, statement.sql, first));
        else resolve();
      });
    });
  }

  exec(sql: string, parameters: unknown[] = []): Promise<unknown[]> {
    return this.all({ sql, parameters });
  }

  defer(statement: Statement): boolean {
    return this.queue(statement);
  }

  deferRows(statement: Statement, take: (rows: unknown[]) => void): boolean {
    return this.queue(statement, take);
  }

  /** {@link defer}, with a check of the statement's rows when they arrive (its failure fails the round trip). */
  queue(statement: Statement, check?: (rows: unknown[]) => void): boolean {
    if (!this.multipleStatements) return false;
    this.#outbox.push({ statement, rowsAsArray: false, check });
    return true;
  }

  /**
   * {@link queue}s a statement for the next round trip where the connection
   * takes several a query, else (or `now`) runs it at once; `check` is given
   * its rows either way.
   */
  async send(sql: string, parameters: unknown[] = [], check?: (rows: unknown[]) => void, now = false): Promise<void> {
    if (!now && this.queue({ sql, parameters }, check)) return;
    // Sent here, check or not (`check?.(await …)` would skip the statement itself when there is no check).
    const rows = await this.exec(sql, parameters);
    check?.(rows);
  }

  /** Forgets what is queued (a rollback). */
  drop(): void {
    this.#outbox.length = 0;
  }

  /**
   * Rolls back after a failure, forgetting what is queued; never throws (a
   * failed ROLLBACK only means the session is gone). Its transaction may then
   * still be open, so the connection is marked {@link unusable}.
   */
  async abandon(): Promise<void> {
    this.drop();
    await this.exec("rollback").catch(() => {
      this.unusable = true;
    });
  }
}

/**
 * `rows` with their string columns as strings: undefined when a text column is
 * not in utf8mb4; a column of bytes (not cast to text) is decoded as UTF-8.
 */
function textRows(rows: unknown[][], fields: readonly mysql.FieldPacket[] | undefined): unknown[][] | undefined {
  const bytes: number[] = [];
  const { utf8mb4, byteTypes } = charsets();
  for (const [i, field] of (fields ?? []).entries()) {
    const charset = field.characterSet;
    if (charset === undefined || !byteTypes.has(field.columnType ?? -1)) continue;
    if (charset === BINARY_CHARSET) bytes.push(i);
    else if (!utf8mb4.has(charset)) return undefined;
  }
  if (bytes.length > 0) {
    for (const row of rows) {
      for (const i of bytes) if (Buffer.isBuffer(row[i])) row[i] = (row[i] as Buffer).toString("utf8");
    }
  }
  return rows;
}

/** `session` with the statements it runs rewritten for MySQL 8 ({@link forMysql}). */
function renamingCollations(session: Session): SqlSession {
  const rewritten = (q: Statement | CompiledQuery): Statement => ({ sql: forMysql(q.sql), parameters: q.parameters });
  return {
    all: (q) => session.all(rewritten(q)),
    run: (q) => session.run(rewritten(q)),
  };
}

/** The rows of one statement's result (an OK packet has none). */
function asRows(result: unknown): unknown[] {
  return Array.isArray(result) ? result : [];
}

/**
 * MySQL and MariaDB through a mysql2 pool. Reads run in autocommit (each a
 * fresh consistent snapshot, never blocked by writers). Writes run in a READ
 * COMMITTED transaction that first locks the store's one-row head (the
 * `write-lock` row of the meta relation) with `SELECT … FOR UPDATE`: a record
 * lock on a primary key, so writers queue and no gap lock can deadlock; each
 * later statement sees every earlier commit.
 */
/** Runs `fn` in the transaction `s` has open and commits it; on a failure, rolls back and rethrows. */
async function committed<T>(s: Session, fn: (session: SqlSession) => Promise<T>): Promise<T> {
  try {
    const result = await fn(s);
    await s.exec("commit");
    return result;
  } catch (error) {
    // The first error is the one to report.
    await s.abandon();
    throw error;
  }
}

export class MysqlDriver implements SqlDriver {
  readonly #pool: MysqlPool;
  readonly #owned: boolean;
  readonly #target: ServerTarget;
  readonly #eventTable: string;
  readonly #writeLock: string;
  readonly #writeLockRow: string;
  /** The pool's connections take several statements in one query. */
  readonly #multipleStatements: boolean;
  #ended = false;
  /** Connections that have served a call: only these can be stale when handed out again. */
  readonly #releaseTimes = new ReleaseTimes<MysqlConnection>();
  /** The URL of a pool this driver opened, so that stores of one process on it wake each other's followers. */
  readonly database: string | undefined;
  /** The pool's connections answer in utf8mb4 and have no `typeCast` function: see {@link Session.values}. */
  readonly #textReads: boolean;
  /** The calls of {@link read}, {@link write}, {@link transaction}, {@link migrate} and {@link scrub} still running. */
  readonly #calls = new Set<Promise<unknown>>();

  /**
   * @param source a URL to open a pool on (ended by `close()`), or the application's pool (left open).
   * @param tables the event relation's name (keys the migration lock) and the meta relation's (holds the write lock row).
   */
  constructor(
    source: { url: string; options?: MysqlOptions } | { pool: MysqlPoolLike },
    tables: { event: string; meta: string },
    writeLockRow: string,
  ) {
    this.#eventTable = tables.event;
    // Outer-joined to one row, so that without the write-lock row the statement fails on the server (see
    // LOCK_MISSING) and the statements queued after it, up to COMMIT, never run.
    this.#writeLock = `select m.\`value\`, ${LOCK_MISSING} + (m.\`value\` is null) as \`missing\` from (select 1 as \`one\`) as d left join ${quote(tables.meta)} as m on m.\`name\` = ? for update`;
    this.#writeLockRow = writeLockRow;
    if ("pool" in source) {
      const wrapped = (source.pool as { pool?: MysqlPool }).pool;
      this.#pool = typeof wrapped?.getConnection === "function" ? wrapped : (source.pool as MysqlPool);
      this.#owned = false;
      // mysql2 keeps the resolved settings there; another pool simply has none to show.
      const config = (this.#pool as { config?: { connectionConfig?: Record<string, unknown> } }).config;
      this.#target = serverTarget(undefined, config?.connectionConfig, 3306);
      this.#multipleStatements = config?.connectionConfig?.multipleStatements === true;
      this.database = undefined;
    } else {
      // mysql2 reads host, user, password and database from any scheme; `mariadb:` is only ours.
      const uri = source.url.replace(/^mariadb:/, "mysql:");
      // Several statements a query let a write take two round trips; every value is still escaped by mysql2.
      // A URL's `?multipleStatements=false` counts as the option would.
      const fromUrl = new URL(uri).searchParams.get("multipleStatements");
      const multipleStatements = source.options?.multipleStatements ?? fromUrl !== "false";
      // Text statements arrive with their values written in (see `formatSql`): mysql2's own pass would
      // only scan them again for placeholders (80 µs of a 100-action rebase).
      const queryFormat = source.options?.queryFormat ?? ((sql: string) => sql);
      try {
        this.#pool = packages
          .mysql2()
          .createPool({ ...source.options, multipleStatements, queryFormat, uri }) as unknown as MysqlPool;
      } catch (error) {
        // mysql2 checks some settings as it makes the pool (`ssl=true`, an unknown `charset`).
        throw new ValidationError(
          "unsupported",
          source.options === undefined ? "url" : "options.mysql",
          `mysql2 refused the connection settings: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      this.#multipleStatements = multipleStatements;
      this.#owned = true;
      this.#target = serverTarget(source.url, source.options, 3306);
      this.database = source.url;
    }
    const settings = (this.#pool as { config?: { connectionConfig?: Record<string, unknown> } }).config
      ?.connectionConfig;
    this.#textReads =
      settings !== undefined &&
      // mysql2's own casts only (`typeCast: true`, its default): `false` (Buffers) or a function casts otherwise.
      (settings.typeCast === true || settings.typeCast === undefined) &&
      charsets().utf8mb4.has(settings.charsetNumber as number);
  }

  /** {@link #onConnection}, counted among the calls {@link close} waits for. */
  #withConnection<T>(
    fn: (session: Session) => Promise<T>,
    tolerate?: (error: { code?: string }, sql: string) => boolean,
  ): Promise<T> {
    const call = this.#onConnection(fn, tolerate);
    this.#calls.add(call);
    const done = () => this.#calls.delete(call);
    call.then(done, done);
    return call;
  }

  /**
   * Runs `fn` on a connection of the pool. After a server restart the pool
   * still holds idle connections whose sockets are dead, and hands them out
   * before it notices: when such a reused connection fails on the call's first
   * statement (a read, or the first of a transaction), nothing ran, so the
   * connection is destroyed and the call runs again on the next one. That ends
   * at the latest on a new connection, whose failure is reported as it is.
   */
  async #onConnection<T>(
    fn: (session: Session) => Promise<T>,
    tolerate?: (error: { code?: string }, sql: string) => boolean,
  ): Promise<T> {
    for (;;) {
      const connection = await new Promise<MysqlConnection>((resolve, reject) => {
        this.#pool.getConnection((error, c) =>
          error ? reject(mysqlConnectionError(error, this.#target)) : resolve(c),
        );
      });
      const { reused, idle } = this.#releaseTimes.checkedOut(connection);
      const session = new Session(connection, this.#target, this.#multipleStatements, tolerate, this.#textReads, idle);
      let broken = false;
      let results: string | undefined;
      try {
        await session.readSettings();
        results = session.settings?.results;
        if (results !== undefined) {
          // What the session has now (the application may have changed it since `results` was read) is what it gets back.
          await session.send("set @coherence_results = @@session.character_set_results, character_set_results = NULL");
        }
        return await fn(session);
      } catch (error) {
        broken = isMysqlConnectionError((error as { cause?: unknown }).cause ?? error);
        if (!(broken && reused && session.deadOnArrival)) throw error;
      } finally {
        if (results !== undefined && !broken && !session.unusable) {
          // The application's pool gets its connection back as it lent it.
          session.drop();
          // A swap that never ran (its query was dropped unsent) left the variable NULL: the setting stays as it is.
          const restore =
            "set character_set_results = coalesce(@coherence_results, @@session.character_set_results), @coherence_results = NULL";
          await session.exec(restore).catch(() => {
            session.unusable = true;
          });
        }
        if (broken || session.unusable) connection.destroy();
        else {
          this.#releaseTimes.released(connection);
          connection.release();
        }
      }
    }
  }

  /**
   * Reads in autocommit, each statement a fresh READ COMMITTED view. A session
   * whose autocommit is off (its reads would leave a transaction, and its
   * snapshot, open on the pooled connection), or whose isolation is READ
   * UNCOMMITTED (its reads would see the rows of writes still in flight), reads
   * in a READ COMMITTED transaction of its own instead, committed at the end.
   */
  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#withConnection(async (s) => {
      const settings = s.settings;
      if (!settings?.autocommitOff && !settings?.readUncommitted) return fn(s);
      if (settings.autocommitOff) await s.send("commit");
      await s.send("set transaction isolation level read committed");
      await s.send("start transaction read only");
      return committed(s, fn);
    });
  }

  /**
   * Where the connection takes several statements in one query, the
   * transaction's opening statements travel with its first query, and the
   * statements {@link Session.defer}red by the store (its inserts) with COMMIT:
   * a rebase on the base its writer last saw takes two round trips.
   */
  write<T>(fn: (session: SqlSession) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    return this.#withConnection(async (s) => {
      // Without autocommit, the application's own use of the connection may have left a transaction open:
      // commit it, as START TRANSACTION would, before the next one's characteristics are set.
      if (s.settings?.autocommitOff) await s.send("commit");
      await s.send("set transaction isolation level read committed");
      await s.send("start transaction");
      try {
        // On a connection idle for a while, the opening statements go in a round trip of their own (see `probe`).
        await s.send(this.#writeLock, [this.#writeLockRow], undefined, s.probe);
        const result = await fn(s);
        if (commit(result)) await s.exec("commit");
        else {
          s.drop();
          await s.exec("rollback");
        }
        return result;
      } catch (error) {
        // The first error is the one to report.
        await s.abandon();
        throw missingLock(error, this.#writeLock) ?? error;
      }
    });
  }

  /**
   * One CALL of a routine that opens and commits its own transaction (the
   * dialect's `storedAppend`), in autocommit; the rows of its first result.
   * An open transaction the application left on its connection (autocommit
   * off) is committed first, as {@link write} does. On a connection idle for
   * a while a round trip of its own comes first, so that a dead connection is
   * found before the call, which may commit, is sent (see `probe`).
   */
  call(statement: Statement): Promise<unknown[]> {
    return this.#withConnection(async (s) => {
      if (s.settings?.autocommitOff) await s.send("commit");
      else if (s.probe) await s.exec("do 0");
      let results: unknown[];
      try {
        results = await s.all<unknown>(statement);
      } catch (error) {
        throw missingLock(error, statement.sql) ?? error;
      }
      // mysql2 answers a CALL with each result set of the routine, then its status.
      return Array.isArray(results[0]) ? results[0] : results;
    });
  }

  /** A READ COMMITTED transaction without the writers' row lock (projections). */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#withConnection(async (s) => {
      if (s.settings?.autocommitOff) await s.exec("commit");
      await s.exec("set transaction isolation level read committed");
      await s.exec("start transaction");
      return committed(s, fn);
    });
  }

  /**
   * DDL commits implicitly here, so two processes are kept apart by a named
   * lock instead of a transaction; and as MySQL 8 has no `CREATE INDEX IF NOT
   * EXISTS`, an index that exists already is what was asked for.
   */
  migrate(fn: (session: SqlSession) => Promise<void>): Promise<void> {
    const existing = (error: { code?: string }, sql: string) =>
      (error.code === ER_DUP_KEYNAME && /^create index /i.test(sql)) ||
      (ROUTINE_NOT_MADE.has(error.code ?? "") && /^create procedure /i.test(sql));
    return this.#withConnection(async (s) => {
      const lock = `select get_lock(${LOCK_NAME}, ?) as locked`;
      const [row] = (await s.exec(lock, [this.#eventTable, MIGRATION_LOCK_SECONDS])) as { locked: number | null }[];
      if (row?.locked !== 1) {
        throw new DatabaseError(`another process held the schema lock for ${MIGRATION_LOCK_SECONDS} s`, {
          cause: undefined,
          query: lock,
          code: "database",
        });
      }
      try {
        const [server] = (await s.exec("select version() as version")) as { version?: unknown }[];
        // MySQL 8 knows MariaDB's NO PAD binary collation under another name.
        await fn(/mariadb/i.test(String(server?.version)) ? s : renamingCollations(s));
        // DDL commits on its own, the meta rows do not: without autocommit they would stay in an open transaction.
        if (s.settings?.autocommitOff) await s.exec("commit");
      } finally {
        // Ending the session releases the lock too, so a failure here can only follow a lost connection.
        await s.exec(`select release_lock(${LOCK_NAME})`, [this.#eventTable]).catch(() => {});
      }
    }, existing);
  }

  /**
   * Rebuilds `table` (InnoDB maps OPTIMIZE to a recreate) after the commit
   * that deleted secrets: the pages that held them are dropped with the old
   * tablespace. False when the server reports an error for it, such as a
   * reader's lock held for longer than {@link SCRUB_WAIT_SECONDS} (or the
   * session's lock_wait_timeout, when shorter; the default is a day).
   */
  scrub(table: string): Promise<boolean> {
    return this.#withConnection(async (s) => {
      const [row] = (await s.exec("select @@session.lock_wait_timeout as previous")) as { previous?: unknown }[];
      const previous = Number(row?.previous);
      // MariaDB takes 0 (do not wait); MySQL's least is 1.
      const restore = Number.isSafeInteger(previous) && previous >= 0;
      await s.exec(
        `set session lock_wait_timeout = ${restore ? Math.min(previous, SCRUB_WAIT_SECONDS) : SCRUB_WAIT_SECONDS}`,
      );
      const back = restore ? `set session lock_wait_timeout = ${previous}` : "set session lock_wait_timeout = default";
      let rows: { Msg_type?: unknown }[];
      try {
        rows = (await s.exec(`optimize table ${quote(table)}`)) as { Msg_type?: unknown }[];
      } catch (error) {
        // The rebuild's error is the one to report; the session is restored when it still can be.
        await s.exec(back).catch(() => {});
        throw error;
      }
      await s.exec(back);
      return !rows.some((r) => String(r.Msg_type).toLowerCase() === "error");
    });
  }

  /** Ends the pool the driver opened, once the calls still running are done (a stream reads its next page ahead). */
  async close(): Promise<void> {
    if (!this.#owned || this.#ended) return;
    this.#ended = true;
    await Promise.allSettled([...this.#calls]);
    await new Promise<void>((resolve, reject) =>
      this.#pool.end((error) => (error ? reject(mapMysqlError(error, this.#target)) : resolve())),
    );
  }
}
