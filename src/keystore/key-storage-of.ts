import type { Backend } from "../backend.js";
import { MemoryBackend } from "../memory/memory-backend.js";
import { SqlBackend } from "../sql/sql-backend.js";
import type { KeyStorage } from "./key-storage.js";
import { MemoryKeyStorage } from "./memory-key-storage.js";
import { SqlKeyStorage } from "./sql-key-storage.js";

/** Where a store's backend keeps data keys: beside its events, in the same database. */
export function keyStorageOf(backend: Backend): KeyStorage {
  if (backend instanceof SqlBackend) return new SqlKeyStorage(backend);
  if (backend instanceof MemoryBackend) return new MemoryKeyStorage(backend);
  throw new TypeError("this store keeps no data keys: open it with openStore()");
}
