import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OpenStoreOptions, openStore, type Store } from "../src/index.js";

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
  /** Closes the stores it opened and drops the databases, files or schemas it made. */
  dispose(): Promise<void>;
}

function tracked(
  name: string,
  make: (options?: OpenStoreOptions) => Promise<{ store: Store; url: string }>,
  drop: () => Promise<void>,
): StoreFactory {
  const open: Store[] = [];
  let lastUrl: string | undefined;
  return {
    name,
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

export function memoryFactory(): StoreFactory {
  return tracked(
    "memory",
    async (options) => ({ store: openStore("memory:", options), url: "memory:" }),
    async () => {},
  );
}

export function sqliteFactory(): StoreFactory {
  const dir = mkdtempSync(join(tmpdir(), "coherence-test-"));
  let n = 0;
  return tracked(
    "sqlite",
    async (options) => {
      const url = `sqlite:${join(dir, `store-${++n}.db`)}`;
      return { store: openStore(url, options), url };
    },
    async () => rmSync(dir, { recursive: true, force: true }),
  );
}

/** Every store kind, by name. PostgreSQL and MySQL/MariaDB are added by their own factories. */
const ALL: Record<string, () => StoreFactory> = {
  memory: memoryFactory,
  sqlite: sqliteFactory,
};

/**
 * The stores to test: `COHERENCE_STORES` (comma-separated names) or all of them.
 */
export function storeFactories(): StoreFactory[] {
  const wanted =
    process.env.COHERENCE_STORES?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? Object.keys(ALL);
  return wanted.map((name) => {
    const make = ALL[name];
    if (!make) throw new Error(`COHERENCE_STORES names an unknown store ${JSON.stringify(name)}`);
    return make();
  });
}
