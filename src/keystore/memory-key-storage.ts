import type { WriteTx } from "../backend.js";
import type { MemoryBackend } from "../memory/memory-backend.js";
import type { EncodedIdentity } from "../model/codec.js";
import {
  isLive,
  isShreddable,
  type KeyMaker,
  type KeyStorage,
  type LiveKey,
  type StoredKey,
  sortedBy,
} from "./key-storage.js";

/** The keys of each memory store, beside its events: keystores on one store share them. */
const KEYS = new WeakMap<MemoryBackend, Map<string, StoredKey>>();

/**
 * The data keys of a memory store, in a map. Every method completes without
 * awaiting in between, so each is atomic for the event loop; `shredIn` runs
 * last in the rebase's transaction, which then commits.
 */
export class MemoryKeyStorage implements KeyStorage {
  readonly #keys: Map<string, StoredKey>;

  constructor(backend: MemoryBackend) {
    let keys = KEYS.get(backend);
    if (!keys) {
      keys = new Map();
      KEYS.set(backend, keys);
    }
    this.#keys = keys;
  }

  async get(trigger: EncodedIdentity): Promise<StoredKey | undefined> {
    return this.#keys.get(trigger.key);
  }

  async liveKey(trigger: EncodedIdentity, make: KeyMaker, opens: (other: LiveKey) => void): Promise<LiveKey> {
    const known = this.#keys.get(trigger.key);
    if (isLive(known)) return known;
    for (const other of this.#keys.values()) {
      if (isLive(other)) {
        opens(other);
        break;
      }
    }
    const generation = (known?.generation ?? 0) + 1;
    const key: LiveKey = { trigger, generation, expiredAt: null, ...make(generation) };
    this.#keys.set(trigger.key, key);
    return key;
  }

  async list(): Promise<StoredKey[]> {
    return sortedBy([...this.#keys.values()], (k) => k.createdAt);
  }

  async due(now: number): Promise<EncodedIdentity[]> {
    const due = [...this.#keys.values()].filter((k) => isLive(k) && k.expiresAt !== null && k.expiresAt <= now);
    return sortedBy(due, (k) => k.expiresAt as number).map((k) => k.trigger);
  }

  async setExpiry(trigger: EncodedIdentity, expiresAt: number | null): Promise<boolean> {
    const known = this.#keys.get(trigger.key);
    if (!isLive(known)) return false;
    this.#keys.set(trigger.key, { ...known, expiresAt });
    return true;
  }

  async shredIn(_tx: WriteTx, trigger: EncodedIdentity, now: number, dueBy?: number): Promise<boolean> {
    const known = this.#keys.get(trigger.key);
    if (!isShreddable(known, dueBy)) return false;
    this.#keys.set(trigger.key, { ...known, wrapped: null, expiresAt: null, expiredAt: now });
    return true;
  }

  async scrub(): Promise<boolean> {
    return true;
  }

  async scrubPending(): Promise<boolean> {
    return false;
  }

  async rewrap(rewrapped: (key: LiveKey) => string): Promise<number> {
    // All or nothing: every new wrapping is made before any is stored.
    const next = [...this.#keys.values()].filter(isLive).map((k) => ({ ...k, wrapped: rewrapped(k) }));
    for (const k of next) this.#keys.set(k.trigger.key, k);
    return next.length;
  }
}
