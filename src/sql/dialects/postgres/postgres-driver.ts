import { createHash } from "node:crypto";
import type { CompiledQuery } from "kysely";
import type pg from "pg";
import { WriteConflictError } from "../../../model/errors.js";
import type { SqlDriver, SqlSession, Statement } from "../../dialect.js";
import { packages } from "../packages.js";
import { COMMIT, type PROBE_AFTER_IDLE_MS, ReleaseTimes, type ServerTarget } from "../server-target.js";
import { NOT_READ_COMMITTED, writeLockKey } from "./postgres-dialect.js";
import { isPostgresConnectionError, mapPostgresError, postgresConnectionError } from "./postgres-errors.js";
import { PostgresListener } from "./postgres-listener.js";

/**
 * Options of the PostgreSQL store: passed to `new pg.Pool(...)` as they are
 * (`max`, `connectionTimeoutMillis`, `idleTimeoutMillis`, `ssl`,
 * `statement_timeout`, …); the URL gives the connection string.
 */
export type PostgresOptions = Omit<pg.PoolConfig, "connectionString">;

/** The client of a {@link PostgresPool}: the slice of `pg.PoolClient` the store uses. */
export interface PostgresClient {
  query(config: pg.QueryConfig): Promise<{ rows: unknown[] }>;
  release(destroy?: boolean | Error): void;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

/** The slice of `pg.Pool` the store uses: a pool the application already has qualifies. */
export interface PostgresPool {
  connect(): Promise<PostgresClient>;
  end(): Promise<void>;
  readonly options?: {
    host?: string;
    port?: number;
    database?: string;
    password?: unknown;
    binary?: unknown;
    connectionString?: string;
  };
}

const INT8 = 20;
const BOOL = 16;

/**
 * Per query, never `pg.types.setTypeParser` (which would change every pool of
 * the process): int8 as a JS number (every BIGINT the store keeps, seqNos,
 * 53-bit hashes, millisecond timestamps, is a safe integer), and a boolean as
 * one, whatever parser the application set for the process.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8
      ? (text: string) => Number(text)
      : oid === BOOL
        ? (text: string) => (text === "t" ? true : text === "f" ? false : text)
        : packages.pg().types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * Serializes the writers of one store in every process: a transaction-level
 * advisory lock keyed by the schema and the event relation's name. Readers take
 * no lock and are never blocked. Without parameters, it travels in one simple
 * query with the BEGIN before it and the statements after it that have none;
 * it also keeps the transaction's statements off parallel workers: they are
 * small index lookups, and workers would only add their start-up (tens of ms)
 * while the lock is held.
 */
function writeLock(eventTable: string): Statement {
  return {
    sql: `select pg_catalog.set_config('max_parallel_workers_per_gather', '0', true), pg_catalog.pg_advisory_xact_lock(${writeLockKey(eventTable)})`,
    parameters: [],
  };
}

/**
 * Statements a client keeps prepared (parsed and planned once, by name) at most:
 * the store's statements come in a bounded number of shapes, but a history's
 * size is one of them, so a cap keeps a long-lived connection's cache bounded.
 */
const MAX_PREPARED = 500;
const prepared = new WeakMap<PostgresClient, Set<string>>();

/**
 * Statement names by text: the store sends the same few texts (the same string
 * objects, compiled once) on every rebase, and hashing a text of some kilobytes
 * each time cost more than the lookup. Emptied when it reaches its bound.
 */
const names = new Map<string, string>();

/** The name under which `client` keeps `text` prepared, or undefined past the cap (then pg parses it each time). */
function preparedName(client: PostgresClient, text: string, parameters: number): string | undefined {
  if (parameters === 0) return undefined;
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_PREPARED * 4) names.clear();
    name = `cs_${createHash("sha1").update(text).digest("base64url")}`;
    names.set(text, name);
  }
  let kept = prepared.get(client);
  if (!kept) {
    kept = new Set();
    prepared.set(client, kept);
  }
  if (kept.has(name)) return name;
  if (kept.size >= MAX_PREPARED) return undefined;
  kept.add(name);
  return name;
}

const noop = () => {};

/** Per client, the `setup` statements of {@link PostgresDriver.call} it has run (its temporary functions). */
const setUp = new WeakMap<PostgresClient, Set<string>>();
/** SQLSTATE of a statement pg believes prepared on a session that no longer has it (DISCARD ALL, DEALLOCATE). */
const PREPARED_STATEMENT_GONE = "26000";
/** Clients whose sessions' default isolation is not READ COMMITTED: their calls take BEGIN READ COMMITTED. */
const beginsFirst = new WeakSet<PostgresClient>();
/** SQLSTATEs of a call of a temporary function the session no longer has (or never had a temporary schema for). */
const UNDEFINED_FUNCTION = "42883";
const INVALID_SCHEMA_NAME = "3F000";

/**
 * Whether VACUUM FULL of key relation `$table` should wait: while another
 * transaction of this database (or a replication slot, or a prepared
 * transaction) holds an xmin or xid at or before the latest write of the
 * relation, the row versions that write replaced (a shredded key, a key
 * wrapped by the old master key) are not dead to everyone, and the rewrite
 * would copy them; while another session holds a lock on the relation, the
 * rewrite would wait for it, and the keystore's calls behind the rewrite.
 * The latest write's xid is the youngest `xmin` of the relation's rows (every
 * dead version was replaced by a write at or before it); ages compare xids
 * across wraparound.
 */
const scrubMustWait = (table: string) => `with shred as (select min(age(xmin)) as a from "${table}")
select coalesce((select exists (
  select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
    and (age(backend_xmin) >= shred.a or age(backend_xid) >= shred.a)
  union all select 1 from pg_replication_slots where age(xmin) >= shred.a
  union all select 1 from pg_prepared_xacts where database = current_database() and age(transaction) >= shred.a
) from shred), false)
  or exists (select 1 from pg_locks where relation = '"${table}"'::regclass and pid is distinct from pg_backend_pid()
    and database = (select oid from pg_database where datname = current_database())) as held`;

/**
 * How long a scrub waits for older transactions and other sessions' locks to
 * end before it reports `false`; also the rewrite's own lock timeout, for a
 * lock taken after the check (a shorter one of the session stays).
 */
const SCRUB_WAIT_MS = 2000;

class Session implements SqlSession {
  #sent = 0;
  /** Queries sent in this session, in order, while the client pipelines them. */
  readonly #inflight: Promise<unknown[]>[] = [];
  /** How many of {@link #inflight} have been awaited. */
  #awaited = 0;
  /** The client's own pipeline mode while this session pipelines, else undefined. */
  #ownMode: boolean | undefined;
  /**
   * True when the session's first statement failed because the connection was
   * already gone (an idle client of the pool whose server restarted): nothing
   * of the call ran, so it may run again on another client.
   */
  deadOnArrival = false;
  /**
   * A COMMIT has been sent. From then on a lost connection says nothing of
   * the outcome (the server may have committed before the answer was lost),
   * so the call is never run again: the caller gets the ConnectionError.
   */
  #committing = false;

  /**
   * @param probe the client was idle for {@link PROBE_AFTER_IDLE_MS} or more: a
   *   transaction's opening statements take a round trip of their own.
   */
  constructor(
    readonly client: PostgresClient,
    readonly target: ServerTarget,
    readonly probe = false,
  ) {}

  async #query(config: pg.QueryConfig): Promise<unknown[]> {
    const first = this.#sent++ === 0;
    if (COMMIT.test(config.text)) this.#committing = true;
    try {
      const result = (await this.client.query(config)) as { rows: unknown[] } | { rows: unknown[] }[];
      // A simple query of several statements gives one result each: the last is the caller's.
      return Array.isArray(result) ? (result[result.length - 1]?.rows ?? []) : result.rows;
    } catch (error) {
      if (first && !this.#committing && isPostgresConnectionError(error)) this.deadOnArrival = true;
      throw mapPostgresError(error, this.target, config.text);
    }
  }

  #config(q: Statement | CompiledQuery, rowMode?: "array"): pg.QueryConfig {
    const name = preparedName(this.client, q.sql, q.parameters.length);
    return { name, text: q.sql, values: [...q.parameters], types: TYPES, rowMode } as pg.QueryConfig;
  }

  /** Sends `q` and returns its rows; while pipelining, after the first failure of what was sent before it. */
  async #run(q: Statement | CompiledQuery, rowMode?: "array"): Promise<unknown[]> {
    if (this.#ownMode === undefined) return this.#query(this.#config(q, rowMode));
    const rows = this.#pipe(q, rowMode);
    this.#uncork();
    while (this.#awaited < this.#inflight.length) await this.#inflight[this.#awaited++];
    return rows;
  }

  /**
   * Statements without parameters held back by {@link defer}, to travel as one
   * simple query with the next statement without parameters (NOTIFY with
   * COMMIT), or just before the next statement with parameters.
   */
  readonly #simple: string[] = [];

  /**
   * The client's socket while this session holds back its writes: pg writes
   * each query on its own, and each write wakes the server, which would then
   * hold the write lock while it waits for the rest of the transaction.
   */
  #corked: { uncork(): void } | undefined;

  /** Holds the socket's writes until {@link #uncork}: what a round trip sends leaves in one write. */
  #cork(): void {
    if (this.#corked !== undefined) return;
    const stream = (this.client as { connection?: { stream?: Partial<Record<"cork" | "uncork", () => void>> } })
      .connection?.stream;
    if (typeof stream?.cork !== "function" || typeof stream.uncork !== "function") return;
    stream.cork();
    this.#corked = stream as { uncork(): void };
  }

  /** Sends what {@link #cork} held back: before anything waits for an answer. */
  #uncork(): void {
    const stream = this.#corked;
    this.#corked = undefined;
    stream?.uncork();
  }

  /** Sends `q` into the pipeline (after what {@link #simple} holds) and tracks it. */
  #pipe(q: Statement | CompiledQuery, rowMode?: "array"): Promise<unknown[]> {
    this.#cork();
    if (this.#simple.length > 0) {
      const held = this.#simple.splice(0);
      if (q.parameters.length === 0) {
        const text = [...held, q.sql].join(";\n");
        return this.#track(this.#query({ text, types: TYPES, rowMode } as pg.QueryConfig));
      }
      this.#track(this.#query({ text: held.join(";\n") }));
    }
    return this.#track(this.#query(this.#config(q, rowMode)));
  }

  #track(rows: Promise<unknown[]>): Promise<unknown[]> {
    rows.catch(noop);
    this.#inflight.push(rows);
    return rows;
  }

  async all<R>(q: Statement | CompiledQuery): Promise<R[]> {
    return (await this.#run(q)) as R[];
  }

  /** Rows as arrays in column order: no object per row on the stream's pages. */
  async values(q: Statement | CompiledQuery): Promise<unknown[][]> {
    return (await this.#run(q, "array")) as unknown[][];
  }

  async run(q: Statement | CompiledQuery): Promise<void> {
    await this.#run(q);
  }

  /** While pipelining: sends the statement now; its result (or failure) is awaited with the next one. */
  defer(statement: Statement): boolean {
    if (this.#ownMode === undefined) return false;
    if (statement.parameters.length === 0) this.#simple.push(statement.sql);
    else this.#pipe(statement);
    return true;
  }

  /** While pipelining: {@link defer}, and `take` gets the statement's rows before the next query's are awaited. */
  deferRows(statement: Statement, take: (rows: unknown[]) => void): boolean {
    if (this.#ownMode === undefined) return false;
    this.#pipe(statement).then(take, noop);
    return true;
  }

  /**
   * Has the client send this session's queries without waiting for each
   * answer (pg's pipeline mode, one Sync per query, so each fails on its
   * own), where the pg version has it. The client is idle now: just checked out.
   */
  pipeline(): void {
    const client = this.client as { pipeline?: unknown };
    if (typeof client.pipeline !== "boolean") return;
    this.#ownMode = client.pipeline;
    client.pipeline = true;
  }

  /** Waits until nothing is in flight, then gives the client back its own mode. */
  async settle(): Promise<void> {
    this.#uncork();
    this.#simple.length = 0;
    await Promise.allSettled(this.#inflight);
    this.#inflight.length = 0;
    this.#awaited = 0;
    if (this.#ownMode !== undefined) (this.client as { pipeline?: boolean }).pipeline = this.#ownMode;
    this.#ownMode = undefined;
  }

  /**
   * Opens a write transaction and takes the store's write lock; a pipelining
   * session sends both with the transaction's first query, in its round trip.
   */
  async begin(lock: Statement | undefined): Promise<void> {
    const begin = { sql: "begin isolation level read committed", parameters: [] };
    if (lock === undefined) {
      if (this.probe || !this.defer(begin)) await this.run(begin);
      return;
    }
    if (!this.defer(begin)) await this.run(begin);
    if (this.probe || !this.defer(lock)) await this.run(lock);
  }

  /**
   * Runs `q`, which commits (a call in autocommit): from then on a lost
   * connection says nothing of the outcome, so the call is never run again.
   */
  async allCommitting(q: Statement): Promise<unknown[]> {
    this.#committing = true;
    return this.#run(q);
  }

  /** Ends the write transaction: COMMIT (after what is in flight, in its round trip) or ROLLBACK. */
  async end(commit: boolean): Promise<void> {
    await this.run({ sql: commit ? "commit" : "rollback", parameters: [] });
  }

  /** Rolls back after a failure, once nothing is in flight; never throws (the session may be gone). */
  async abandon(): Promise<void> {
    this.#uncork();
    this.#simple.length = 0;
    await Promise.allSettled(this.#inflight);
    await this.client.query({ text: "rollback" }).catch(noop);
  }
}

/**
 * PostgreSQL through a pg pool: reads in autocommit (READ COMMITTED, never
 * blocked), writes in a READ COMMITTED transaction that takes the store's
 * advisory lock first, so each statement after it sees every earlier commit.
 */
/**
 * Where pg connects for `config`, as pg itself reads it (a URL's `?host=` over
 * its host, the URL over the options, then the PG* variables and defaults):
 * a client made and never connected says. For messages only.
 */
/**
 * The settings of the pool a URL opens: the URL as pg's connection string,
 * whose host, port, user, password and database pg reads over the options'.
 * An option's password (the URL has none: `openStore` checks) is passed on
 * with the URL parsed as pg parses it, since pg would drop it.
 */
function poolConfig(url: string, options: PostgresOptions | undefined): pg.PoolConfig {
  if (options?.password === undefined) return { ...options, connectionString: url };
  const parsed = packages.pgConnectionString().parse(url);
  return { ...options, ...(parsed as pg.PoolConfig), password: options.password };
}

function pgTarget(config: pg.ClientConfig): ServerTarget {
  const client = new (packages.pg().Client)(config) as unknown as {
    host?: string;
    port?: number;
    database?: string;
    connectionParameters?: { password?: unknown };
  };
  const password = client.connectionParameters?.password;
  return {
    host: client.host || "localhost",
    port: client.port || 5432,
    database: client.database || "(default)",
    password: typeof password === "string" && password !== "" ? password : undefined,
  };
}

export class PostgresDriver implements SqlDriver {
  readonly #pool: PostgresPool;
  readonly #owned: boolean;
  readonly #target: ServerTarget;
  readonly #lock: Statement;
  #ended = false;
  /** Clients that have served a call: only these can be stale when handed out again. */
  readonly #releaseTimes = new ReleaseTimes<PostgresClient>();
  /** The URL of a pool this driver opened: the same database, schema and user for every store opened with it. */
  readonly database: string | undefined;
  readonly #listener = new PostgresListener(
    () => this.#listeningClient(),
    (error) => mapPostgresError(error, this.#target),
    // The writers' NOTIFY names the schema of the pool's sessions, whatever their connect hooks set. A client
    // the pool lent is one of them (and with `max: 1` a read would wait for it): it answers itself.
    () =>
      this.#listenerSettings() === undefined
        ? Promise.resolve(undefined)
        : this.read(
            async (s) =>
              (await s.all<{ schema: string }>({ sql: "select current_schema() as schema", parameters: [] }))[0]
                ?.schema,
          ),
  );

  /** The pool's settings, which the LISTEN connection is made with; undefined for a pool that shows none (it lends a client). */
  #listenerSettings(): pg.ClientConfig | undefined {
    const { options } = this.#pool as { options?: pg.ClientConfig };
    return typeof options === "object" && options !== null ? options : undefined;
  }

  /**
   * The LISTEN connection: a client of its own, made with the pool's settings
   * (and its client class), so that followers take no connection from the
   * pool: with `max: 1` they held its only one, and every call of the store,
   * their own reads included, waited for it forever. A pool that shows no
   * settings lends one of its clients instead.
   */
  async #listeningClient(): Promise<PostgresClient> {
    const options = this.#listenerSettings();
    if (options === undefined) return this.#pool.connect();
    const Client = (this.#pool as { Client?: typeof pg.Client }).Client ?? packages.pg().Client;
    const client = new Client(options);
    // Heard from the start: an error before the listener attaches its own would end the process.
    client.on("error", noop);
    await client.connect();
    // Ended, not pooled: an error while it ends (its server going away meanwhile) is nobody's, and
    // unheard it would end the process.
    const release = () => {
      client.on("error", noop);
      client.end().catch(noop);
    };
    return Object.assign(client, { release }) as unknown as PostgresClient;
  }

  /**
   * @param source a URL to open a pool on (ended by `close()`), or the application's pool (left open).
   * @param eventTable the event relation's name, which keys the write lock.
   */
  /** The calls of {@link read}, {@link write} and {@link migrate} still running. */
  readonly #calls = new Set<Promise<unknown>>();

  constructor(source: { url: string; options?: PostgresOptions } | { pool: PostgresPool }, eventTable: string) {
    this.#lock = writeLock(eventTable);
    if ("pool" in source) {
      this.#pool = source.pool;
      this.#owned = false;
      // pg keeps a pool's connection string as given: host, port and database are in it, not in the options.
      this.#target = pgTarget((source.pool.options ?? {}) as pg.ClientConfig);
      this.database = undefined;
    } else {
      const config = poolConfig(source.url, source.options);
      const pool = new (packages.pg().Pool)(config);
      // An idle client whose server went away is dropped by the pool; unheard, the event would end the process.
      pool.on("error", noop);
      // So would a new client's error between the pool's handing it out and the call's own listener: the
      // server's FATAL can arrive in the same packet as its readiness, before the call gets the client.
      pool.on("connect", (client: { on(event: "error", listener: () => void): unknown }) => client.on("error", noop));
      this.#pool = pool as unknown as PostgresPool;
      this.#owned = true;
      this.#target = pgTarget(config);
      this.database = source.url;
    }
  }

  /** {@link #onClient}, counted among the calls {@link close} waits for. */
  #withClient<T>(fn: (session: Session) => Promise<T>, runsAgain = true): Promise<T> {
    const call = this.#onClient(fn, runsAgain);
    this.#calls.add(call);
    const done = () => this.#calls.delete(call);
    call.then(done, done);
    return call;
  }

  /**
   * Runs `fn` on a client of the pool. After a server restart the pool still
   * holds idle clients whose sockets are dead, and hands them out before it
   * notices: when such a reused client fails on the call's first statement
   * (a read, or the BEGIN of a transaction), nothing ran, so the client is
   * discarded and the call runs again on the next one. That ends at the
   * latest on a new client, whose failure is reported as it is. A client
   * whose prepared statements the application dropped is discarded too, and
   * the call runs again once where `runsAgain` (not where `fn` runs the
   * application's code).
   */
  async #onClient<T>(fn: (session: Session) => Promise<T>, runsAgain: boolean): Promise<T> {
    let preparedLost = !runsAgain;
    for (;;) {
      let client: PostgresClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw postgresConnectionError(error, this.#target);
      }
      const { reused, idle } = this.#releaseTimes.checkedOut(client);
      // A checked-out client's socket error arrives as an event; its query fails too, which is what we report.
      client.on("error", noop);
      const session = new Session(client, this.#target, idle);
      let broken = false;
      try {
        return await fn(session);
      } catch (error) {
        broken = isPostgresConnectionError((error as { cause?: unknown }).cause ?? error);
        if ((error as { dbCode?: unknown }).dbCode === PREPARED_STATEMENT_GONE) {
          // The application ran DISCARD ALL (or DEALLOCATE) on the client: pg still believes its
          // statements prepared, and every one would fail there. The client goes; the failed
          // statement committed nothing (in a transaction, COMMIT then rolls back), so the call
          // runs again, once, on another.
          prepared.delete(client);
          setUp.delete(client);
          broken = true;
          if (!preparedLost) {
            preparedLost = true;
            continue;
          }
          throw error;
        }
        if (!(broken && reused && session.deadOnArrival)) throw error;
      } finally {
        client.off("error", noop);
        if (!broken) this.#releaseTimes.released(client);
        client.release(broken);
      }
    }
  }

  /** A write transaction: READ COMMITTED, under the store's write lock unless `fn` takes it itself. */
  async #transaction<T>(
    fn: (session: Session) => Promise<T>,
    commit: (result: T) => boolean,
    locksItself = false,
  ): Promise<T> {
    return this.#withClient((s) => this.#inTransaction(s, fn, commit, locksItself));
  }

  /** {@link #transaction} on a client already checked out. */
  async #inTransaction<T>(
    s: Session,
    fn: (session: Session) => Promise<T>,
    commit: (result: T) => boolean,
    locksItself: boolean,
  ): Promise<T> {
    s.pipeline();
    try {
      await s.begin(locksItself ? undefined : this.#lock);
      const result = await fn(s);
      await s.end(commit(result));
      return result;
    } catch (error) {
      // The first error is the one to report; a failed rollback only means the session is gone.
      await s.abandon();
      throw error;
    } finally {
      await s.settle();
    }
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#withClient(fn);
  }

  write<T>(fn: (session: SqlSession) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    return this.#transaction(fn, commit);
  }

  /**
   * One call of a function that takes the write lock itself (the dialect's
   * `storedAppend`), in a READ COMMITTED transaction; BEGIN, `setup` where
   * this client has not run it, the call and COMMIT travel in one round trip
   * (on a client idle for a while, BEGIN takes one of its own first: see
   * `probe`). A client whose temporary function is gone (the application ran
   * DISCARD TEMP on it) fails the call before it ran anything: it is made
   * again, once (after DISCARD ALL, which drops its prepared statements too,
   * the client goes: see {@link #onClient}). The rows of the call.
   */
  async call(statement: Statement, setup?: Statement): Promise<unknown[]> {
    try {
      return await this.#call(statement, setup, false);
    } catch (error) {
      const code = (error as { dbCode?: string }).dbCode;
      if (setup === undefined || (code !== UNDEFINED_FUNCTION && code !== INVALID_SCHEMA_NAME)) throw error;
      return this.#call(statement, setup, true);
    }
  }

  /**
   * One checkout for both ways of calling: a client idle for a while is
   * probed by the BEGIN of the second only if nothing was sent on it before.
   */
  #call(statement: Statement, setup: Statement | undefined, again: boolean): Promise<unknown[]> {
    return this.#withClient(async (s) => {
      if (!again && setup !== undefined) {
        const rows = await this.#callAlone(s, statement, setup);
        if (rows !== undefined) return rows;
      }
      let rows: unknown[] = [];
      let made: Set<string> | undefined;
      let sent = false;
      await this.#inTransaction(
        s,
        async (s) => {
          if (setup !== undefined) {
            made = setUp.get(s.client) ?? new Set();
            setUp.set(s.client, made);
            if (again || !made.has(setup.sql)) {
              if (!s.defer(setup)) await s.run(setup);
              sent = true;
            }
          }
          if (!s.deferRows(statement, (r) => (rows = r))) rows = await s.all(statement);
        },
        () => true,
        true,
      ).catch((error: unknown) => {
        if (!sent && setup !== undefined) made?.delete(setup.sql);
        throw error;
      });
      if (sent && setup !== undefined) made?.add(setup.sql);
      return rows;
    });
  }

  /**
   * The call in autocommit, one query (a transaction of its own: BEGIN and
   * COMMIT would cost the client two more queries, and the server two more
   * messages to answer; W4 1,332-1,460 against 1,857-1,927 committed/s in
   * turns), on a client that has made `setup`, has not been idle (a dead
   * connection is found by a round trip of its own first, see `probe`) and
   * whose sessions default to READ COMMITTED, outside any transaction.
   * Undefined where it cannot.
   */
  async #callAlone(s: Session, statement: Statement, setup: Statement): Promise<unknown[] | undefined> {
    if (s.probe || beginsFirst.has(s.client) || !setUp.get(s.client)?.has(setup.sql)) return undefined;
    // A client the application gave back to the pool inside a transaction: the call would commit
    // nothing (and keep the lock); BEGIN and COMMIT commit it, as the statements do.
    const status = (s.client as { getTransactionStatus?(): string | null }).getTransactionStatus?.();
    if (status !== undefined && status !== "I") return undefined;
    try {
      return await s.allCommitting(statement);
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      if (cause?.code === "P0001" && cause.message === NOT_READ_COMMITTED) {
        beginsFirst.add(s.client);
        return undefined;
      }
      const code = (error as { dbCode?: string }).dbCode;
      if (code === UNDEFINED_FUNCTION || code === INVALID_SCHEMA_NAME) setUp.get(s.client)?.delete(setup.sql);
      throw error;
    }
  }

  /** DDL is transactional here: the whole schema appears at once, under the writers' lock. */
  migrate(fn: (session: SqlSession) => Promise<void>): Promise<void> {
    return this.#transaction(fn, () => true);
  }

  /**
   * Rewrites `table` into new files after the commit that deleted secrets
   * (plain VACUUM would leave the dead rows' bytes in place; VACUUM cannot
   * run in a transaction, so it runs in autocommit here).
   */
  scrub(table: string): Promise<boolean> {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) throw new Error(`not a checked relation name: ${table}`);
    return this.#withClient(async (s) => {
      // Every lock wait of the scrub (the check's, the rewrite's) gives up after a while: the session's own
      // lock_timeout when shorter, else SCRUB_WAIT_MS. Set back after: a SET of the session's own by value,
      // else by RESET (so the value still follows the server's configuration).
      const [before] = await s.all<{ setting: string; source: string }>({
        sql: "select setting, source from pg_settings where name = 'lock_timeout'",
        parameters: [],
      });
      await s.run({
        sql: `select set_config('lock_timeout', case when current_setting('lock_timeout')::interval
  between '1ms' and '${SCRUB_WAIT_MS}ms' then current_setting('lock_timeout') else '${SCRUB_WAIT_MS}ms' end, false)`,
        parameters: [],
      });
      const restore =
        before?.source === "session"
          ? { sql: "select set_config('lock_timeout', $1, false)", parameters: [`${before.setting}ms`] }
          : { sql: "reset lock_timeout", parameters: [] };
      let scrubbed: boolean;
      try {
        scrubbed = await this.#scrubIn(s, table);
      } catch (error) {
        // The scrub's error is the one to report; the session is restored when it still can be.
        await s.run(restore).catch(() => {});
        throw error;
      }
      await s.run(restore);
      return scrubbed;
    });
  }

  /** {@link scrub} on a session whose lock_timeout is set. */
  async #scrubIn(s: Session, table: string): Promise<boolean> {
    // Until the transactions that could still see the old row versions end, VACUUM FULL would copy them
    // into the new files, and while another session holds a lock on the relation it would wait (and the
    // keystore's calls queued behind it): wait a while, else report it.
    const deadline = performance.now() + SCRUB_WAIT_MS;
    for (;;) {
      let held: boolean;
      try {
        const [row] = await s.all<{ held: boolean }>({ sql: scrubMustWait(table), parameters: [] });
        held = row?.held === true;
      } catch (error) {
        // Reading the relation waited for a lock (one queued behind a reader's) longer than lock_timeout.
        if (!(error instanceof WriteConflictError && error.dbCode === "55P03")) throw error;
        held = true;
      }
      if (!held) break;
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // A lock taken since the check: the rewrite gives up after lock_timeout (a WriteConflictError).
    await s.run({ sql: `vacuum full "${table}"`, parameters: [] });
    return true;
  }

  /** LISTEN on one shared connection; see {@link PostgresListener}. */
  subscribe(channel: string, onNotify: () => void, onError: (error: unknown) => void): () => void {
    return this.#listener.subscribe(channel, onNotify, onError);
  }

  /** A READ COMMITTED transaction without the writers' lock (projections). */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    // The application's code runs in `fn` (a projection's apply): after its prepared statements were
    // lost, the client goes, but `fn` does not run a second time.
    return this.#withClient(async (s) => {
      await s.run({ sql: "begin isolation level read committed", parameters: [] });
      try {
        const result = await fn(s);
        await s.run({ sql: "commit", parameters: [] });
        return result;
      } catch (error) {
        await s.client.query({ text: "rollback" }).catch(noop);
        throw error;
      }
    }, false);
  }

  /**
   * Ends the pool the driver opened, once the calls still running are done
   * (a stream reads its next page ahead): pg's pool never answers a client
   * asked for after `end()`, so such a call would wait forever.
   */
  async close(): Promise<void> {
    await this.#listener.close();
    if (!this.#owned || this.#ended) return;
    this.#ended = true;
    await Promise.allSettled([...this.#calls]);
    await this.#pool.end();
  }
}
