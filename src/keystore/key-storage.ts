import type { WriteTx } from "../backend.js";
import type { EncodedIdentity } from "../model/codec.js";
import { triggerDigest } from "./trigger-digest.js";

/**
 * The data key of a trigger as stored: wrapped by the master key, never in
 * the clear. Once expired, the wrapped key is gone and the record stays as a
 * tombstone: a ciphertext of an older generation reads as redacted, while one
 * of a trigger that never had a key is an error.
 */
export interface StoredKey {
  readonly trigger: EncodedIdentity;
  /** 1 for a trigger's first key, one more for each key made after an expiry. */
  readonly generation: number;
  /** The data key wrapped by the master key (see `wrapKey`); null once expired. */
  readonly wrapped: string | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** When `expireDue` shreds it, in milliseconds since the epoch; null for never. */
  readonly expiresAt: number | null;
  /** When it was shredded; null while live. */
  readonly expiredAt: number | null;
}

/** A trigger's live key. */
export type LiveKey = StoredKey & { readonly wrapped: string };

/** What a new key is made of, given its generation (the wrapping binds it). */
export type KeyMaker = (generation: number) => {
  readonly wrapped: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
};

/**
 * Where a store keeps its data keys: a relation of its own in the same
 * database (SQL stores), or a map beside the events (the memory store). The
 * keystore's rules live in `Keystore`; this only stores and finds.
 */
export interface KeyStorage {
  /** The trigger's record, live or expired; undefined when it never had a key. */
  get(trigger: EncodedIdentity): Promise<StoredKey | undefined>;
  /**
   * Returns the trigger's live key, making it with `make` when it has none
   * (first use, or after an expiry). Two processes at once end with one key.
   * Before making one, and in the same transaction, `opens` is given one
   * live key of another trigger (when there is one) and throws if the master
   * key cannot open it: so every live key stays wrapped by one master key.
   */
  liveKey(trigger: EncodedIdentity, make: KeyMaker, opens: (other: LiveKey) => void): Promise<LiveKey>;
  /** Every record, live and expired, oldest first. */
  list(): Promise<StoredKey[]>;
  /** The triggers of live keys with `expiresAt <= now`, earliest expiry first. */
  due(now: number): Promise<EncodedIdentity[]>;
  /** Sets a live key's expiry; false when the trigger has none. */
  setExpiry(trigger: EncodedIdentity, expiresAt: number | null): Promise<boolean>;
  /**
   * Shreds the trigger's live key inside `tx`, the write transaction of the
   * rebase that appends its `key-expired` effect; false when it has none, or
   * when `dueBy` is given and the key is not due by then (its expiry was
   * moved, or it was expired and made anew, since `due` listed it).
   */
  shredIn(tx: WriteTx, trigger: EncodedIdentity, now: number, dueBy?: number): Promise<boolean>;
  /**
   * After a commit that shredded keys: removes what is left of them in the
   * database's files (WAL, dead rows). False when the database could not
   * finish it now (another reader holds an old snapshot).
   */
  scrub(): Promise<boolean>;
  /**
   * True when a commit that shredded or re-wrapped keys has not been followed
   * by a scrub that finished (it reported false, or the process ended first).
   */
  scrubPending(): Promise<boolean>;
  /** Replaces the wrapping of every live key in one transaction; returns how many. */
  rewrap(rewrapped: (key: LiveKey) => string): Promise<number>;
}

/** True for a record that holds a key. */
export function isLive(key: StoredKey | undefined): key is LiveKey {
  return key !== undefined && key.wrapped !== null;
}

/** True for a live key that `shredIn` may shred: any, or one due by `dueBy` when that is given. */
export function isShreddable(key: StoredKey | undefined, dueBy: number | undefined): key is LiveKey {
  return isLive(key) && (dueBy === undefined || (key.expiresAt !== null && key.expiresAt <= dueBy));
}

/**
 * Orders records by `time` of each, then by trigger digest (the SQL relation's
 * key), compared by code unit: the same order on every store, whatever the
 * database's collation.
 */
export function sortedBy<K extends StoredKey>(keys: readonly K[], time: (key: K) => number): K[] {
  const digests = new Map(keys.map((k) => [k, triggerDigest(k.trigger)]));
  return [...keys].sort((a, b) => {
    const da = digests.get(a) as string;
    const db = digests.get(b) as string;
    return time(a) - time(b) || (da < db ? -1 : da > db ? 1 : 0);
  });
}
