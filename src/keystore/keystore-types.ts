import type { Identity, Json, StoredEffect } from "../model/types.js";
import type { Redacted } from "./redacted.js";

/** Options of {@link openKeystore}. */
export interface KeystoreOptions {
  /**
   * The master key that wraps every data key: 32 bytes, as a `Uint8Array`, 64
   * hex digits or base64. Default: the environment variable
   * `COHERENCE_MASTER_KEY`. It is never stored, logged or put in an error.
   * Listing and expiring keys work without one; encrypting, decrypting and
   * rotating need it.
   */
  readonly masterKey?: string | Uint8Array;
  /** The `source` of the `key-expired` effects the keystore appends. Default `"keystore"`. */
  readonly source?: string;
}

/** Options of {@link Keystore.encrypt}. */
export interface EncryptOptions {
  /** When the key this call creates is due for {@link Keystore.expireDue}; ignored when the trigger has a key. */
  readonly expiresAt?: Date;
}

/** What {@link Keystore.keys} tells of a trigger's data key: never the key itself. */
export interface KeyInfo {
  readonly trigger: Identity;
  /** When the current (or last) key of the trigger was made. */
  readonly createdAt: Date;
  /** When {@link Keystore.expireDue} shreds it; null for never (and once expired). */
  readonly expiresAt: Date | null;
  /** When it was shredded; null while it is live. */
  readonly expiredAt: Date | null;
}

/** The key was deleted and the effect appended, in one transaction. */
export interface KeyExpired {
  readonly result: "expired";
  /** The stored `key-expired` effect: projections replay the trigger's aggregates from it. */
  readonly effect: StoredEffect;
  /**
   * True when no copy of the key is left in the database's files either
   * (SQLite: WAL checkpointed; PostgreSQL: relation vacuumed). False when the
   * database could not finish that now (a reader held an old snapshot); the
   * next expiry or checkpoint finishes it.
   */
  readonly scrubbed: boolean;
}

/** The trigger had no key (never used, or expired before): nothing was written. */
export interface KeyAbsent {
  readonly result: "absent";
}

/** What {@link Keystore.expire} returns: switch on `result`. */
export type ExpireResult = KeyExpired | KeyAbsent;

/** What {@link Keystore.expireDue} returns. */
export interface ExpireDueResult {
  /** The `key-expired` effects appended, one per key, in expiry order. */
  readonly effects: StoredEffect[];
  /** As {@link KeyExpired.scrubbed}, for all of them. */
  readonly scrubbed: boolean;
}

/** What {@link Keystore.rotateMasterKey} returns. */
export interface RotateResult {
  /** How many live keys were re-wrapped with the new master key. */
  readonly rewrapped: number;
  /**
   * As {@link KeyExpired.scrubbed}, for the old wrappings: true when the
   * database's files no longer hold them; false when it could not finish that
   * now (a reader held an old snapshot or the relation's lock), and the next
   * expiry or rotation finishes it.
   */
  readonly scrubbed: boolean;
}

/**
 * Crypto-shredding on a store: values encrypted under one data key per
 * trigger; expiring a key deletes it and appends `key-expired` on the trigger
 * in one transaction, so projections replay the trigger's aggregates and the
 * values now decrypt to {@link REDACTED}. Open one with {@link openKeystore}.
 *
 * @example
 * const keystore = openKeystore(store, { masterKey: process.env.MASTER_KEY });
 * const no = await keystore.encrypt(["encryption-key", 1], "avd2dlg3g93fm1osu");
 * // … put `no` in a patch, with triggers: [["encryption-key", 1]]
 * await keystore.expire(["encryption-key", 1]);
 * isRedacted(await keystore.decrypt(["encryption-key", 1], no)); // true
 */
export interface Keystore {
  /**
   * Encrypts a JSON value for `trigger` (AES-256-GCM, a fresh random IV, the
   * trigger bound in), creating the trigger's data key on first use. Returns a
   * JSON-safe string for a patch. A master key that does not open the store's
   * live keys rejects with a `DecryptionError` (`master-key-mismatch`) and
   * makes no key.
   */
  encrypt(trigger: Identity, value: Json, options?: EncryptOptions): Promise<string>;
  /**
   * Decrypts what {@link Keystore.encrypt} gave for `trigger`; {@link REDACTED}
   * once that key expired (also when the trigger got a new key since). A
   * changed ciphertext, or one of another trigger, rejects with a
   * `DecryptionError` (a ciphertext under a shredded key cannot be
   * authenticated any more: it reads as redacted).
   */
  decrypt(trigger: Identity, text: string): Promise<Json | Redacted>;
  /**
   * Deletes the trigger's data key and appends `{ reason: "key-expired", trigger }`,
   * in one transaction. Encrypting for the trigger later makes a new key;
   * what the old one sealed stays redacted.
   */
  expire(trigger: Identity): Promise<ExpireResult>;
  /** Expires every key whose `expiresAt` is at or before `now` (default: the current time), each as {@link Keystore.expire}. */
  expireDue(now?: Date): Promise<ExpireDueResult>;
  /** Every trigger's key, live or shredded (shredded ones keep a record without key material), oldest first. */
  keys(): Promise<KeyInfo[]>;
  /** Sets when the trigger's key is due (null: never); false when the trigger has no key. */
  setExpiry(trigger: Identity, expiresAt: Date | null): Promise<boolean>;
  /**
   * Re-wraps every data key with `masterKey`, in one transaction, and uses it
   * from then on. Returns how many keys were re-wrapped, and whether the old
   * wrappings left the database's files. Other processes must
   * switch to the new master key too: the old one no longer opens the keys.
   * This keystore's `encrypt` and `decrypt` calls wait while the keys are
   * re-wrapped, then use the new key.
   */
  rotateMasterKey(masterKey: string | Uint8Array): Promise<RotateResult>;
}
