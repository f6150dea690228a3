import { AsyncLocalStorage } from "node:async_hooks";
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import type Database from "better-sqlite3";
import { ConnectionError, DatabaseError } from "../../../model/errors.js";
import { Mutex } from "../../../mutex.js";
import type { SqlDriver, SqlSession, Statement } from "../../dialect.js";
import { packages } from "../packages.js";
import { mapSqliteError } from "./sqlite-errors.js";
import { watchWal } from "./wal-watch.js";

/** Options of the SQLite store. */
export interface SqliteOptions {
  /** `PRAGMA synchronous`: `FULL` (the default) survives power loss; `NORMAL` is faster and may lose the last commits. */
  readonly synchronous?: "FULL" | "NORMAL" | "EXTRA" | "full" | "normal" | "extra";
  /**
   * Milliseconds one attempt of a write waits for another process's write
   * lock, default 10,000. A rebase makes up to 10 attempts before it returns
   * `write-conflict`, so it can wait up to 10 times this; better-sqlite3 waits
   * synchronously, so the process's event loop stands still meanwhile.
   */
  readonly busyTimeout?: number;
}

type Db = Database.Database;

/** A connection with a cache of prepared statements. */
class Connection implements SqlSession {
  readonly #statements = new Map<string, Database.Statement>();

  constructor(readonly db: Db) {}

  #prepare(sql: string, raw = false): Database.Statement {
    const key = raw ? `raw\u0000${sql}` : sql;
    let statement = this.#statements.get(key);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (raw) statement.raw(true);
      if (this.#statements.size >= 500) this.#statements.clear();
      this.#statements.set(key, statement);
    }
    return statement;
  }

  async all<R>(q: Statement): Promise<R[]> {
    try {
      return this.#prepare(q.sql).all(...q.parameters) as R[];
    } catch (error) {
      throw mapSqliteError(error, q.sql);
    }
  }

  async values(q: Statement): Promise<unknown[][]> {
    try {
      // A statement of its own: raw mode is a property of the prepared statement.
      return this.#prepare(q.sql, true).all(...q.parameters) as unknown[][];
    } catch (error) {
      throw mapSqliteError(error, q.sql);
    }
  }

  async run(q: Statement): Promise<void> {
    try {
      this.#prepare(q.sql).run(...q.parameters);
    } catch (error) {
      throw mapSqliteError(error, q.sql);
    }
  }

  async runEach(sql: string, rows: readonly (readonly unknown[])[]): Promise<void> {
    try {
      const statement = this.#prepare(sql);
      for (const row of rows) statement.run(...row);
    } catch (error) {
      throw mapSqliteError(error, sql);
    }
  }

  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (error) {
      throw mapSqliteError(error, sql);
    }
  }
}

/**
 * A write from inside a projection's transaction (its `apply`, or work `apply`
 * started while the batch runs): it would wait for that transaction for ever.
 */
function nestedWrite(): DatabaseError {
  return new DatabaseError(
    "a write to this SQLite database from inside a projection's apply would wait for the projection's own transaction: apply writes only through ctx.sql",
    { cause: undefined },
  );
}

/** The projection transaction an async context runs in (see `SqliteDriver.transaction`). */
const inProjection = new AsyncLocalStorage<object>();
/** The projection transaction holding each lock now. */
const heldBy = new WeakMap<Mutex, object>();

/**
 * One write lock per database file in this process: SQLite's busy handler
 * sleeps the whole thread, so two stores of one process on the same file must
 * queue here instead of waiting for each other there.
 */
const fileLocks = new Map<string, Mutex>();

function lockOf(file: string): Mutex {
  let lock = fileLocks.get(file);
  if (!lock) {
    lock = new Mutex();
    fileLocks.set(file, lock);
  }
  return lock;
}

/** The resolved path of a database file, its symbolic links followed where they can be. */
function realPath(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

function connect(path: string, options: SqliteOptions): Db {
  let db: Db | undefined;
  try {
    db = new (packages.betterSqlite3())(path, { timeout: options.busyTimeout ?? 10_000 });
    if (path !== ":memory:" && path !== "") db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous?.toUpperCase() ?? "FULL"}`);
    // Freed space is zeroed on every write, not only the expiry's: a key row's cell that a page
    // split copied elsewhere leaves its old bytes behind, and the expiry cannot find them later.
    db.pragma("secure_delete = ON");
    // The schema has no foreign keys; SQLite cannot drop those of earlier releases without rebuilding
    // their tables, so they go unchecked, as on the servers, whose initSchema() drops them.
    db.pragma("foreign_keys = OFF");
    return db;
  } catch (error) {
    db?.close();
    // better-sqlite3 checks the directory itself, with a TypeError: as SQLite's own SQLITE_CANTOPEN.
    if (db === undefined && error instanceof TypeError) {
      throw new ConnectionError(`cannot open the SQLite database: ${error.message}`, { cause: error });
    }
    throw mapSqliteError(error);
  }
}

/** How long a scrub waits for readers of old WAL frames, as on PostgreSQL. */
const SCRUB_WAIT_MS = 2000;

/**
 * SQLite through better-sqlite3: WAL, `synchronous=FULL`, a busy timeout.
 * Writes run in `BEGIN IMMEDIATE` (the file's write lock, shared with other
 * processes) on a writer connection serialized in-process; reads run on
 * a second connection that sees committed data only. An in-memory database has
 * one connection, shared under the same lock.
 */
export class SqliteDriver implements SqlDriver {
  readonly #writer: Connection;
  readonly #reader: Connection;
  readonly #lock: Mutex;
  readonly #shared: boolean;
  readonly database: string | undefined;

  constructor(path: string, options: SqliteOptions = {}) {
    this.#shared = path === ":memory:" || path === "";
    this.#writer = new Connection(connect(path, options));
    // The file exists now: its real path, so that a link and its target are one database here
    // (one write lock; the WAL file next to the target is the one watched).
    this.database = this.#shared ? undefined : realPath(path);
    this.#lock = this.#shared ? new Mutex() : lockOf(this.database as string);
    try {
      this.#reader = this.#shared ? this.#writer : new Connection(connect(path, options));
    } catch (error) {
      this.#writer.db.close();
      throw error;
    }
  }

  /** True when the caller runs inside the projection transaction that holds this database's lock now. */
  #nested(): boolean {
    const held = heldBy.get(this.#lock);
    return held !== undefined && inProjection.getStore() === held;
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    // A projection's apply reading the store: the shared connection is the one its transaction holds.
    return this.#shared && !this.#nested() ? this.#lock.run(() => fn(this.#reader)) : fn(this.#reader);
  }

  write<T>(fn: (session: SqlSession) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    if (this.#nested()) return Promise.reject(nestedWrite());
    return this.#lock.run(() => this.#inTransaction(fn, commit));
  }

  /**
   * A projection's transaction. SQLite has one writer per file, so it holds
   * the write lock as `write` does, marked so that what `apply` calls inside
   * it is recognized: a read of an in-memory database uses the connection
   * the transaction holds, and a write (which would wait for the transaction
   * forever) fails at once. Only these transactions are marked: the mark
   * costs every promise of the process from then on (about 5% of a rebase).
   */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    if (this.#nested()) return Promise.reject(nestedWrite());
    const token = {};
    return this.#lock.run(async () => {
      heldBy.set(this.#lock, token);
      try {
        return await inProjection.run(token, () => this.#inTransaction(fn, () => true));
      } finally {
        heldBy.delete(this.#lock);
      }
    });
  }

  /** Runs `fn` in a write transaction on the writer connection; the caller holds the lock. */
  async #inTransaction<T>(fn: (session: SqlSession) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    const w = this.#writer;
    w.exec("BEGIN IMMEDIATE");
    try {
      const result = await fn(w);
      w.exec(commit(result) ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (error) {
      if (w.db.inTransaction) w.exec("ROLLBACK");
      throw error;
    }
  }

  migrate(fn: (session: SqlSession) => Promise<void>): Promise<void> {
    return this.write(fn, () => true);
  }

  /**
   * Copies the WAL into the database file and truncates it: the frames that
   * held deleted keys are gone. False when a reader's snapshot still needs
   * them after {@link SCRUB_WAIT_MS} (or the busy timeout, when shorter).
   */
  scrub(_table: string): Promise<boolean> {
    return this.#lock.run(async () => {
      const { db } = this.#writer;
      const previous = db.pragma("busy_timeout", { simple: true }) as number;
      db.pragma(`busy_timeout = ${Math.min(previous, SCRUB_WAIT_MS)}`);
      try {
        const [row] = await this.#writer.all<{ busy: number }>({
          sql: "PRAGMA wal_checkpoint(TRUNCATE)",
          parameters: [],
        });
        return row?.busy === 0;
      } finally {
        db.pragma(`busy_timeout = ${previous}`);
      }
    });
  }

  /**
   * Wakes followers when any process writes the database's WAL file (see
   * {@link watchWal}); an in-memory database has no other process to hear.
   */
  subscribe(_channel: string, onNotify: () => void, onError: (error: unknown) => void): () => void {
    return this.database === undefined ? () => {} : watchWal(this.database, onNotify, onError);
  }

  async close(): Promise<void> {
    await this.#lock.run(async () => {
      if (this.#reader !== this.#writer) this.#reader.db.close();
      this.#writer.db.close();
    });
  }
}
