import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject, it } from "vitest";
import { type OpenStoreOptions, openStore, type Store } from "../src/index.js";
import { admin, freshName, SERVER_URLS, withDatabase } from "./support/servers.js";

/**
 * A store under test. Every `create()` gives a fresh, empty store with its
 * schema initialized; `dispose()` removes everything the factory made.
 */
export interface StoreFactory {
  readonly name: string;
  /** Opens a fresh, empty store of this kind, schema initialized. */
  create(options?: OpenStoreOptions): Promise<Store>;
  /** The URL of the last store `create()` made (for child processes). */
  readonly lastUrl: string | undefined;
  /**
   * True when another store (or process) opened on {@link lastUrl} reaches the
   * same database; false for the stores of the process (`memory:`,
   * `sqlite::memory:`), each a database of its own.
   */
  readonly shared: boolean;
  /** Closes the stores it opened and drops the databases, files or schemas it made. */
  dispose(): Promise<void>;
}

function tracked(
  name: string,
  make: (options?: OpenStoreOptions) => Promise<{ store: Store; url: string }>,
  drop: () => Promise<void>,
  shared = true,
): StoreFactory {
  const open: Store[] = [];
  let lastUrl: string | undefined;
  return {
    name,
    shared,
    get lastUrl() {
      return lastUrl;
    },
    async create(options) {
      const { store, url } = await make(options);
      open.push(store);
      lastUrl = url;
      await store.initSchema();
      return store;
    },
    async dispose() {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await drop();
    },
  };
}

/** A store of the process at `url` (`memory:`, `sqlite::memory:`): each store a database of its own, gone when it closes. */
function processFactory(name: string, url: string): StoreFactory {
  return tracked(
    name,
    async (options) => ({ store: openStore(url, options), url }),
    async () => {},
    false,
  );
}

export function memoryFactory(): StoreFactory {
  return processFactory("memory", "memory:");
}

export function sqliteMemoryFactory(): StoreFactory {
  return processFactory("sqlite-memory", "sqlite::memory:");
}

export function sqliteFactory(): StoreFactory {
  // Made on first use: a test file that filters this factory out never disposes of it.
  let dir: string | undefined;
  let n = 0;
  return tracked(
    "sqlite",
    async (options) => {
      dir ??= mkdtempSync(join(tmpdir(), "coherence-test-"));
      const url = `sqlite:${join(dir, `store-${++n}.db`)}`;
      return { store: openStore(url, options), url };
    },
    async () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  );
}

/**
 * PostgreSQL (`COHERENCE_POSTGRES_URL`): a fresh database on first use,
 * dropped by `dispose()`; each store in its own schema, named in the URL
 * (`options=-c search_path=…`) so that child processes open the same store.
 */
export function postgresFactory(): StoreFactory {
  const database = freshName("coherence_test");
  let created: Promise<void> | undefined;
  let n = 0;
  return tracked(
    "postgres",
    async (options) => {
      created ??= admin("postgres", [`create database ${database}`]);
      await created;
      const schema = `store_${++n}`;
      const url = withDatabase(SERVER_URLS.postgres, database, { options: `-c search_path=${schema}` });
      await admin("postgres", [`create schema ${schema}`], url);
      // A suite keeps a hundred stores open: idle connections go back at once, or the server runs out.
      const postgres = { idleTimeoutMillis: 200, ...options?.postgres };
      return { store: openStore(url, { ...options, postgres }), url };
    },
    async () => {
      if (created) await admin("postgres", [`drop database if exists ${database} with (force)`]);
    },
  );
}

/**
 * MySQL/MariaDB (`COHERENCE_MYSQL_URL`): a fresh database per store, all
 * dropped by `dispose()`. `pool` adds to the pool's options.
 */
export function mysqlFactory(name = "mysql", pool: OpenStoreOptions["mysql"] = {}): StoreFactory {
  const prefix = freshName("coherence_test");
  const made: string[] = [];
  return tracked(
    name,
    async (options) => {
      const database = `${prefix}_${made.length + 1}`;
      made.push(database);
      await admin("mysql", [`create database ${database}`]);
      const url = withDatabase(SERVER_URLS.mysql, database);
      const mysql = { maxIdle: 1, idleTimeout: 200, ...pool, ...options?.mysql };
      return { store: openStore(url, { ...options, mysql }), url };
    },
    async () => {
      if (made.length > 0)
        await admin(
          "mysql",
          made.map((d) => `drop database if exists ${d}`),
        );
    },
  );
}

/** Every store kind, by name. */
const ALL: Record<string, () => StoreFactory> = {
  memory: memoryFactory,
  sqlite: sqliteFactory,
  postgres: postgresFactory,
  mysql: mysqlFactory,
};

const SERVERS: readonly string[] = Object.keys(SERVER_URLS);

/**
 * The stores to test: `COHERENCE_STORES` (comma-separated names) or all of
 * them, less the server stores whose server did not answer (the global setup
 * said so in one line, or failed the run if `COHERENCE_REQUIRE_STORES` names them).
 */
export function storeFactories(): StoreFactory[] {
  const wanted =
    process.env.COHERENCE_STORES?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? Object.keys(ALL);
  const reachable: readonly string[] = inject("reachableServers") ?? [];
  return wanted.flatMap((name) => {
    const make = ALL[name];
    if (!make) throw new Error(`COHERENCE_STORES names an unknown store ${JSON.stringify(name)}`);
    return SERVERS.includes(name) && !reachable.includes(name) ? [] : [make()];
  });
}

/**
 * The factories of the stores `names` that are under test. When none is, the
 * file says so in a skipped test: a file without any fails the run.
 */
export function storesNamed(...names: string[]): StoreFactory[] {
  const found = storeFactories().filter((f) => names.includes(f.name));
  if (found.length === 0) {
    it.skip(`${names.join(", ")}: not among the stores under test (COHERENCE_STORES, or a server not reachable)`, () => {});
  }
  return found;
}

/**
 * {@link storeFactories}, and MySQL/MariaDB once more through connections
 * that take one statement a query (mysql2's default, so the pools
 * applications pass in): each statement of a write then takes a round trip
 * of its own, a path of its own in the driver.
 */
export function conformanceFactories(): StoreFactory[] {
  const factories = storeFactories();
  if (!factories.some((f) => f.name === "mysql")) return factories;
  return [...factories, mysqlFactory("mysql, one statement a query", { multipleStatements: false })];
}
