import type { WriteTx } from "../backend.js";
import { EventStore } from "../event-store.js";
import { encodeIdentity } from "../model/codec.js";
import { ValidationError } from "../model/errors.js";
import { eventValues, snapshot } from "../model/snapshot.js";
import type { Identity, Json, NewEffect, StoredEffect } from "../model/types.js";
import { checkKind, checkNewEvent, checkObject, readDate, readIdentity, readShallow } from "../model/validate.js";
import { checkJson, describe } from "../model/validate-json.js";
import { SharedLock } from "../mutex.js";
import type { Store } from "../store.js";
import { newDataKey, openValue, parseSealedValue, sealValue, unwrapKey, wrapKey } from "./cipher.js";
import { DecryptionError } from "./decryption-error.js";
import { isLive, type KeyStorage, type LiveKey } from "./key-storage.js";
import { keyStorageOf } from "./key-storage-of.js";
import type {
  EncryptOptions,
  ExpireDueResult,
  ExpireResult,
  KeyInfo,
  Keystore,
  KeystoreOptions,
  RotateResult,
} from "./keystore-types.js";
import { MASTER_KEY_ENV, parseMasterKey, resolveMasterKey } from "./master-key.js";
import { REDACTED, type Redacted } from "./redacted.js";

/** Thrown inside the expiry's transaction when the key is gone: rolls the effect back. */
class NoKey extends Error {}

/** The error of a trigger whose key-expired effect `error` found too large for `eventBytes`; any other error as is. */
function tooLarge(error: unknown, eventBytes: number): unknown {
  if (!(error instanceof ValidationError && error.code === "too-large")) return error;
  return new ValidationError(
    "too-large",
    "trigger",
    `its key-expired effect would take more than ${eventBytes} bytes of JSON (limits.eventBytes): keep triggers short`,
    { cause: error },
  );
}

/** Each call is tracked by the store (`EventStore.track`): `close()` lets it finish, an expiry's scrub after its commit included. */
class StoreKeystore implements Keystore {
  /** A malformed key from the environment is reported by the calls that need a key (`keys()` and `expire()` do not). */
  #master: Buffer | ValidationError | undefined;
  readonly #keys: KeyStorage;
  /**
   * Held shared by the calls that use the master key, exclusively by its
   * rotation: a call reads the master key and the keys it wraps on the same
   * side of a rotation (the keys are rewrapped in one transaction, but the
   * key in memory changes after its commit).
   */
  readonly #masterKeyUse = new SharedLock();

  constructor(
    private readonly store: EventStore,
    master: Buffer | ValidationError | undefined,
    private readonly source: string,
  ) {
    this.#master = master;
    this.#keys = keyStorageOf(store.backend);
  }

  /** The master key, or the error that says where to give one. */
  #masterKey(): Buffer {
    if (this.#master instanceof Error) throw this.#master;
    if (this.#master === undefined) {
      throw new ValidationError("missing-key", "options.masterKey", `no master key: give one or set ${MASTER_KEY_ENV}`);
    }
    return this.#master;
  }

  encrypt(trigger: Identity, value: Json, options?: EncryptOptions): Promise<string> {
    return this.store.track(() =>
      this.#masterKeyUse.shared(async () => {
        // Each argument is read once, into a copy: what is checked is what is sealed.
        const id = readIdentity(trigger, "trigger");
        this.#checkEffectSize(id);
        const t = encodeIdentity(id);
        const { depth } = this.store.limits;
        const json = snapshot(value, "value", depth + 1, {
          depthLimit: `values may be nested at most ${depth} levels (limits.depth)`,
          // Its ciphertext goes into an event, which takes at most limits.eventBytes.
          maxValues: eventValues(this.store.limits.eventBytes),
          stored: true,
        });
        checkJson(json, "value", this.store.limits.depth, true);
        const copied = options === undefined ? undefined : readShallow(options, "options");
        if (copied !== undefined) checkObject(copied, "options", ["expiresAt"]);
        const given = (copied as EncryptOptions | undefined)?.expiresAt;
        const expiresAt = given === undefined ? undefined : readDate(given, "options.expiresAt");
        const master = this.#masterKey();
        const stored = await this.#keys.liveKey(
          t,
          (generation) => {
            const fresh = newDataKey();
            try {
              const wrapped = wrapKey(master, fresh, t.key, generation);
              return { wrapped, createdAt: Date.now(), expiresAt: expiresAt?.getTime() ?? null };
            } finally {
              fresh.fill(0);
            }
          },
          // A wrong master key would make keys the right one cannot open, and rotation would then fail for all.
          (other) => unwrapKey(master, other.wrapped, other.trigger.key, other.generation).fill(0),
        );
        const key = unwrapKey(master, stored.wrapped, t.key, stored.generation);
        try {
          return sealValue(key, stored.generation, t.key, JSON.stringify(json));
        } finally {
          key.fill(0);
        }
      }),
    );
  }

  decrypt(trigger: Identity, text: string): Promise<Json | Redacted> {
    return this.store.track(() =>
      this.#masterKeyUse.shared(async () => {
        const t = encodeIdentity(readIdentity(trigger, "trigger"));
        if (typeof text !== "string") {
          throw new ValidationError("invalid-type", "text", `expected a ciphertext string, got ${describe(text)}`);
        }
        const sealed = parseSealedValue(text);
        const master = this.#masterKey();
        const stored = await this.#keys.get(t);
        if (stored === undefined || sealed.generation > stored.generation) {
          throw new DecryptionError(
            "decryption-failed",
            "no key of this trigger sealed the ciphertext: it belongs to another trigger, or was changed",
          );
        }
        // The key that sealed it was shredded (and maybe replaced by a newer one since).
        if (sealed.generation < stored.generation || !isLive(stored)) return REDACTED;
        const key = unwrapKey(master, stored.wrapped, t.key, stored.generation);
        try {
          return JSON.parse(openValue(key, sealed, t.key)) as Json;
        } finally {
          key.fill(0);
        }
      }),
    );
  }

  /** The effect that expires the trigger's key. */
  #expiryEffect(trigger: Identity): NewEffect {
    return { timestamp: new Date(), source: this.source, effect: { reason: "key-expired", trigger } };
  }

  /**
   * Refuses a trigger whose key-expired effect from this keystore would be
   * larger than `limits.eventBytes`: the expiry would append an event beyond
   * the limit (it does so, for a key made before, elsewhere, or expired by a
   * keystore of a longer source, rather than keep the key).
   */
  #checkEffectSize(trigger: Identity): void {
    try {
      checkNewEvent(this.#expiryEffect(trigger), "effect", this.store.limits);
    } catch (error) {
      throw tooLarge(error, this.store.limits.eventBytes);
    }
  }

  /** Expires the trigger's live key (only one due by `dueBy`, when given); undefined when there is none. */
  async #expire(trigger: Identity, dueBy?: number): Promise<StoredEffect | undefined> {
    const t = encodeIdentity(trigger);
    const effect = this.#expiryEffect(trigger);
    const alongside = async (tx: WriteTx) => {
      if (!(await this.#keys.shredIn(tx, t, Date.now(), dueBy))) throw new NoKey();
    };
    // A live key can always be expired: its effect is not held to limits.eventBytes, which a key made by
    // a store opened with larger limits (or by an earlier release) may exceed here.
    const limits = { ...this.store.limits, eventBytes: Number.MAX_SAFE_INTEGER };
    try {
      // Effects are never checked for conflicts: base 1 always appends.
      const result = await this.store.rebaseAlongside(1, [effect], alongside, limits);
      if (result.result === "write-conflict") throw result.error;
      if (result.result !== "ok") throw new Error(`appending an effect gave ${result.result}`);
      return result.events[0] as StoredEffect;
    } catch (error) {
      if (error instanceof NoKey) return undefined;
      throw error;
    }
  }

  expire(trigger: Identity): Promise<ExpireResult> {
    return this.store.track(async () => {
      // One copy for the key shredded and the effect appended: they name the same trigger.
      const effect = await this.#expire(readIdentity(trigger, "trigger"));
      if (effect === undefined) return { result: "absent" };
      return { result: "expired", effect, scrubbed: await this.#keys.scrub() };
    });
  }

  expireDue(now: Date = new Date()): Promise<ExpireDueResult> {
    return this.store.track(async () => {
      const at = readDate(now, "now");
      const effects: StoredEffect[] = [];
      const dueBy = at.getTime();
      for (const t of await this.#keys.due(dueBy)) {
        // Checked again as it is shredded: setExpiry or an expiry and a new key may come between.
        const effect = await this.#expire([t.kind, JSON.parse(t.id)], dueBy);
        if (effect) effects.push(effect);
      }
      // One scrub for all: a WAL checkpoint or a VACUUM per key would be wasted work. With no key due, one
      // an earlier expiry or rotation left unfinished (a reader's lock, a crash before it) is done now.
      const scrub = effects.length > 0 || (await this.#keys.scrubPending());
      return { effects, scrubbed: !scrub || (await this.#keys.scrub()) };
    });
  }

  keys(): Promise<KeyInfo[]> {
    return this.store.track(async () => {
      return (await this.#keys.list()).map((k) => ({
        trigger: [k.trigger.kind, JSON.parse(k.trigger.id)] as Identity,
        createdAt: new Date(k.createdAt),
        expiresAt: k.expiresAt === null ? null : new Date(k.expiresAt),
        expiredAt: k.expiredAt === null ? null : new Date(k.expiredAt),
      }));
    });
  }

  setExpiry(trigger: Identity, expiresAt: Date | null): Promise<boolean> {
    return this.store.track(async () => {
      const t = encodeIdentity(readIdentity(trigger, "trigger"));
      const at = expiresAt === null ? null : readDate(expiresAt, "expiresAt");
      return this.#keys.setExpiry(t, at === null ? null : at.getTime());
    });
  }

  rotateMasterKey(masterKey: string | Uint8Array): Promise<RotateResult> {
    return this.store.track(async () => {
      const next = parseMasterKey(masterKey, "masterKey");
      const count = await this.#masterKeyUse.exclusive(async () => {
        const current = this.#masterKey();
        const rewrapped = await this.#keys.rewrap((k: LiveKey) => {
          const key = unwrapKey(current, k.wrapped, k.trigger.key, k.generation);
          try {
            return wrapKey(next, key, k.trigger.key, k.generation);
          } finally {
            key.fill(0);
          }
        });
        this.#master = next;
        return rewrapped;
      });
      // The old wrappings are gone from the relation; this removes their copies from the files (the
      // other calls go on meanwhile: a VACUUM FULL of a large relation takes a while).
      return { rewrapped: count, scrubbed: await this.#keys.scrub() };
    });
  }
}

/**
 * Opens a keystore on a store: its data keys live beside the events, in the
 * same database (a relation named after the event relation, `events_keys`;
 * `store.initSchema()` creates it).
 *
 * @example
 * const store = openStore("sqlite:shop.db");
 * await store.initSchema();
 * const keystore = openKeystore(store); // master key from COHERENCE_MASTER_KEY
 * const no = await keystore.encrypt(["encryption-key", 1], "avd2dlg3g93fm1osu");
 */
export function openKeystore(store: Store, options: KeystoreOptions = {}): Keystore {
  if (!(store instanceof EventStore)) {
    throw new ValidationError("invalid-type", "store", `expected a store from openStore(), got ${describe(store)}`);
  }
  const given = readShallow(options, "options");
  checkObject(given, "options", ["masterKey", "source"]);
  const { masterKey } = given as KeystoreOptions;
  const source = (given as KeystoreOptions).source ?? "keystore";
  checkKind(source, "options.source");
  let master: Buffer | ValidationError | undefined;
  try {
    master = resolveMasterKey(masterKey);
  } catch (error) {
    // A key given as an argument is checked here; one from the environment when it is used.
    if (masterKey !== undefined || !(error instanceof ValidationError)) throw error;
    master = error;
  }
  return new StoreKeystore(store, master, source);
}
