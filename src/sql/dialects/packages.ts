import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import type Mysql from "mysql2";
import type Pg from "pg";
import type * as PgConnectionString from "pg-connection-string";

const require = createRequire(import.meta.url);

/** `load`, run on the first call only; later calls return what it returned. */
export function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}

/**
 * The database packages, each loaded when the first store of its kind opens
 * (synchronously: they are CommonJS), so a process of SQLite stores never
 * loads pg or mysql2, nor a PostgreSQL one better-sqlite3 and mysql2. Loaded
 * together with Kysely they took a fresh process from 39 to 72 MB of RSS;
 * Kysely with better-sqlite3 alone takes it to 60 MB, with pg alone to 67 MB.
 */
export const packages: {
  readonly pg: () => typeof Pg;
  readonly pgConnectionString: () => typeof PgConnectionString;
  readonly mysql2: () => typeof Mysql;
  readonly betterSqlite3: () => typeof BetterSqlite3;
} = {
  pg: once(() => require("pg") as typeof Pg),
  pgConnectionString: once(() => require("pg-connection-string") as typeof PgConnectionString),
  mysql2: once(() => require("mysql2") as typeof Mysql),
  betterSqlite3: once(() => require("better-sqlite3") as typeof BetterSqlite3),
};
