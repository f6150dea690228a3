import { EventStore } from "./event-store.js";
import { MemoryBackend } from "./memory/memory-backend.js";
import { ValidationError } from "./model/errors.js";
import { DEFAULT_LIMITS } from "./model/types.js";
import { checkObject, resolveLimits } from "./model/validate.js";
import { describe } from "./model/validate-json.js";
import { SqliteDialect } from "./sql/dialects/sqlite/sqlite-dialect.js";
import { SqliteDriver, type SqliteOptions } from "./sql/dialects/sqlite/sqlite-driver.js";
import { SqlBackend } from "./sql/sql-backend.js";
import { resolveTables } from "./sql/tables.js";
import type { Store, StoreOptions } from "./store.js";

/** Options of {@link openStore}: the common ones, and those of each database. */
export interface OpenStoreOptions extends StoreOptions {
  /** Options of `sqlite:` stores. */
  readonly sqlite?: SqliteOptions;
}

const OPTION_KEYS = ["tables", "limits", "sqlite"];

/**
 * Opens a store. The URL names the database:
 * `sqlite:PATH` (the embedded default), `sqlite::memory:`, `memory:`.
 *
 * @example
 * const store = openStore("sqlite:coherence.db");
 * await store.initSchema();
 */
export function openStore(url: string, options: OpenStoreOptions = {}): Store {
  if (typeof url !== "string")
    throw new ValidationError("invalid-url", "url", `expected a string, got ${describe(url)}`);
  checkObject(options, "options", OPTION_KEYS);
  const limits = resolveLimits(options.limits, DEFAULT_LIMITS);
  const tables = resolveTables(options.tables);
  if (url === "memory:") return new EventStore(new MemoryBackend(), limits);
  if (url.startsWith("sqlite:")) {
    let path = url.slice("sqlite:".length);
    if (path.startsWith("//")) path = path.slice(2);
    if (path === "") throw new ValidationError("invalid-url", "url", "expected sqlite:PATH or sqlite::memory:");
    if (options.sqlite !== undefined) checkObject(options.sqlite, "options.sqlite", ["synchronous", "busyTimeout"]);
    const driver = new SqliteDriver(path, options.sqlite);
    return new EventStore(new SqlBackend(new SqliteDialect(), driver, tables), limits);
  }
  throw new ValidationError(
    "invalid-url",
    "url",
    `unknown store URL scheme in ${JSON.stringify(url.split(":")[0])}: expected memory:, sqlite:, postgres://, postgresql://, mysql:// or mariadb://`,
  );
}
