import { existsSync } from "node:fs";
import { EventStore } from "./event-store.js";
import { MemoryBackend } from "./memory/memory-backend.js";
import { ValidationError } from "./model/errors.js";
import { DEFAULT_LIMITS } from "./model/types.js";
import { checkObject, readArgument, readShallow, resolveLimits } from "./model/validate.js";
import { describe, isCleanString } from "./model/validate-json.js";
import { serverSource } from "./server-source.js";
import { MysqlDialect } from "./sql/dialects/mysql/mysql-dialect.js";
import { MysqlDriver, type MysqlOptions, type MysqlPoolLike } from "./sql/dialects/mysql/mysql-driver.js";
import { PostgresDialect } from "./sql/dialects/postgres/postgres-dialect.js";
import { PostgresDriver, type PostgresOptions, type PostgresPool } from "./sql/dialects/postgres/postgres-driver.js";
import { SqliteDialect } from "./sql/dialects/sqlite/sqlite-dialect.js";
import { SqliteDriver, type SqliteOptions } from "./sql/dialects/sqlite/sqlite-driver.js";
import { META } from "./sql/queries/meta.js";
import { SqlBackend } from "./sql/sql-backend.js";
import { derivedName, resolveTables } from "./sql/tables.js";
import type { Store, StoreOptions } from "./store.js";

/** Options of {@link openStore}: the common ones, and those of each database. */
export interface OpenStoreOptions extends StoreOptions {
  /** Options of `sqlite:` stores. */
  readonly sqlite?: SqliteOptions;
  /** Options of `postgres://` stores, passed to `new pg.Pool(...)` (`max`, `connectionTimeoutMillis`, `ssl`, …). */
  readonly postgres?: PostgresOptions;
  /** Options of `mysql://` and `mariadb://` stores, passed to `mysql2.createPool(...)` (`connectionLimit`, `ssl`, …). */
  readonly mysql?: MysqlOptions;
  /**
   * A pool the application already has: a `pg.Pool` with `postgres://`, a
   * mysql2 pool (callback or promise) with `mysql://`. The URL is then the bare
   * scheme, and `close()` leaves the pool open.
   *
   * @example
   * const store = openStore("postgres://", { pool: new pg.Pool({ host: "db", database: "app" }) });
   */
  readonly pool?: PostgresPool | MysqlPoolLike;
}

const OPTION_KEYS = ["tables", "limits", "sqlite", "postgres", "mysql", "pool"];
const SERVER_URL = /^(postgres|postgresql|mysql|mariadb):\/\/(.*)$/s;

/** The synchronous modes a SQLite store accepts: `OFF` would lose commits on a crash of the machine. */
const SYNCHRONOUS = ["FULL", "NORMAL", "EXTRA"] as const;
/** The longest busy timeout better-sqlite3 takes: a 32-bit signed integer of milliseconds. */
const MAX_BUSY_TIMEOUT = 2 ** 31 - 1;

function checkSqliteOptions(options: unknown): asserts options is SqliteOptions {
  checkObject(options, "options.sqlite", ["synchronous", "busyTimeout"]);
  const { synchronous, busyTimeout } = options;
  // SQLite takes the mode in any case.
  if (
    synchronous !== undefined &&
    (typeof synchronous !== "string" || !SYNCHRONOUS.includes(synchronous.toUpperCase() as never))
  ) {
    throw new ValidationError(
      "invalid-type",
      "options.sqlite.synchronous",
      `expected "FULL", "NORMAL" or "EXTRA", got ${describe(synchronous)}`,
    );
  }
  if (
    busyTimeout !== undefined &&
    (typeof busyTimeout !== "number" ||
      !Number.isSafeInteger(busyTimeout) ||
      busyTimeout < 0 ||
      busyTimeout > MAX_BUSY_TIMEOUT)
  ) {
    throw new ValidationError(
      "invalid-number",
      "options.sqlite.busyTimeout",
      `expected milliseconds, an integer from 0 to ${MAX_BUSY_TIMEOUT}, got ${describe(busyTimeout)}`,
    );
  }
}

/** The path of a `sqlite:PATH` or `sqlite://PATH` URL, as the driver opens it (`:memory:` included). */
function sqlitePath(url: string): string {
  const path = url.slice("sqlite:".length);
  return path.startsWith("//") ? path.slice(2) : path;
}

/** The database file of a `sqlite:` URL; undefined for any other URL, and for `sqlite::memory:`. */
export function sqliteFile(url: string): string | undefined {
  if (!url.startsWith("sqlite:")) return undefined;
  const path = sqlitePath(url);
  return path === "" || path === ":memory:" ? undefined : path;
}

/**
 * Opens a store. The URL names the database:
 * `sqlite:PATH` (the embedded default), `sqlite::memory:`, `memory:`,
 * `postgres://user:password@host:5432/db` (or `postgresql://`),
 * `mysql://user:password@host:3306/db` (or `mariadb://`). Opening a server
 * store connects nothing: its pool connects on first use. A SQLite store opens
 * its file at once, and throws a `ConnectionError` when it cannot.
 *
 * @example
 * const store = openStore("sqlite:coherence.db");
 * await store.initSchema();
 */
export function openStore(url: string, given: OpenStoreOptions = {}): Store {
  if (typeof url !== "string")
    throw new ValidationError("invalid-url", "url", `expected a string, got ${describe(url)}`);
  // Each option read once: what is checked is what is used. The store's own (limits, tables, sqlite) are
  // copied whole; a driver's settings and a pool are the driver's to read, as they are.
  const shallow = readShallow(given, "options") as Record<string, unknown>;
  checkObject(shallow, "options", OPTION_KEYS);
  const copied: Record<string, unknown> = { ...shallow };
  for (const key of ["limits", "tables", "sqlite"]) {
    if (copied[key] !== undefined) copied[key] = readArgument(copied[key], `options.${key}`);
  }
  const options = copied as OpenStoreOptions;
  const limits = resolveLimits(options.limits, DEFAULT_LIMITS);
  const tables = resolveTables(options.tables);
  const scheme = SERVER_URL.exec(url)?.[1]?.replace("postgresql", "postgres").replace("mariadb", "mysql");
  for (const key of ["sqlite", "postgres", "mysql", "pool"] as const) {
    const applies =
      key === "pool" ? scheme !== undefined : key === "sqlite" ? url.startsWith("sqlite:") : scheme === key;
    if (options[key] !== undefined && !applies) {
      throw new ValidationError(
        "unknown-key",
        `options.${key}`,
        `does not apply to a store URL starting ${JSON.stringify(`${url.split(":")[0]}:`)}`,
      );
    }
  }
  if (url === "memory:") return new EventStore(new MemoryBackend(), limits);
  if (url.startsWith("sqlite:")) {
    const path = sqlitePath(url);
    if (path === "") throw new ValidationError("invalid-url", "url", "expected sqlite:PATH or sqlite::memory:");
    // The file system would cut the path at a \u0000, or store a lone surrogate as bytes no name has.
    if (!isCleanString(path)) {
      throw new ValidationError("invalid-url", "url", "a SQLite path may hold no lone surrogate and no \u0000");
    }
    // A query string would become part of a new file's name (a file whose name holds one opens).
    if (path.includes("?") && !existsSync(path)) {
      throw new ValidationError(
        "invalid-url",
        "url",
        "a sqlite: URL takes no query string (?…): give SQLite's settings as openStore(url, { sqlite: { … } })",
      );
    }
    if (options.sqlite !== undefined) checkSqliteOptions(options.sqlite);
    const driver = new SqliteDriver(path, options.sqlite);
    return new EventStore(new SqlBackend(new SqliteDialect(), driver, tables), limits);
  }
  const server = SERVER_URL.exec(url);
  if (server?.[1] === "postgres" || server?.[1] === "postgresql") {
    const isPool = (p: object) => typeof (p as { connect?: unknown }).connect === "function";
    const source = serverSource<PostgresOptions, PostgresPool>(
      url,
      server[2] ?? "",
      options.postgres as PostgresOptions,
      "postgres",
      options.pool as PostgresPool,
      isPool,
    );
    // pg's `binary: true` decodes binary result fields as UTF-8 text: no BIGINT of the store would read back.
    // pg reads any truthy value so (`binary: 1`, `"yes"`).
    const binary = "pool" in source ? source.pool.options?.binary : (source.options as { binary?: unknown })?.binary;
    if (binary) {
      throw new ValidationError(
        "unsupported",
        "pool" in source ? "options.pool" : "options.postgres.binary",
        "results in binary (pg's binary: true) are not supported: give a pool without it",
      );
    }
    const driver = new PostgresDriver(source, tables.event);
    return new EventStore(new SqlBackend(new PostgresDialect(), driver, tables), limits);
  }
  if (server?.[1] === "mysql" || server?.[1] === "mariadb") {
    const isPool = (p: object) => typeof (p as { getConnection?: unknown }).getConnection === "function";
    const source = serverSource<MysqlOptions, MysqlPoolLike>(
      url,
      server[2] ?? "",
      options.mysql as MysqlOptions,
      "mysql",
      options.pool as MysqlPoolLike,
      isPool,
    );
    if ("url" in source) {
      // mysql2 reads the URL with the WHATWG parser, and would throw its TypeError at the first connection.
      try {
        new URL(source.url);
      } catch {
        throw new ValidationError("invalid-url", "url", "not a URL: expected mysql://user:password@host:3306/database");
      }
    }
    const driver = new MysqlDriver(source, { event: tables.event, meta: derivedName(tables, "meta") }, META.writeLock);
    return new EventStore(new SqlBackend(new MysqlDialect(), driver, tables), limits);
  }
  if (url.startsWith("memory:")) {
    throw new ValidationError("invalid-url", "url", 'a memory store\'s URL is "memory:", with nothing after it');
  }
  throw new ValidationError(
    "invalid-url",
    "url",
    `unknown store URL scheme in ${JSON.stringify(url.split(":")[0])}: expected memory:, sqlite:, postgres://, postgresql://, mysql:// or mariadb://`,
  );
}
