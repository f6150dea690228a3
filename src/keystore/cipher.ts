import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { DecryptionError } from "./decryption-error.js";
import { KEY_BYTES } from "./master-key.js";

/**
 * AES-256-GCM as node:crypto implements it, in two framings: a data key
 * wrapped by the master key, and a JSON value sealed by a data key. Each
 * framing starts with a versioned prefix, so the format can change later, and
 * binds the trigger (and the data key's generation) as additional
 * authenticated data: a ciphertext moved to another trigger does not
 * authenticate.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A ciphertext names the generation of the trigger's key that sealed it, in 4 bytes. */
const GENERATION_BYTES = 4;

/** Prefix of a sealed value: `cs1.` then base64url of the key's generation, IV, ciphertext, tag. */
const VALUE_PREFIX = "cs1.";
/** Prefix of a wrapped data key: `kw1.` then base64url of IV, ciphertext, tag. */
const WRAPPED_PREFIX = "kw1.";

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Opens what {@link seal} made; undefined when it does not authenticate. */
function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function aad(purpose: string, triggerKey: string, generation: number): Buffer {
  return Buffer.from(`coherence-store/${purpose}\u0000${triggerKey}\u0000${generation}`, "utf8");
}

/** A fresh random data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Wraps a data key with the master key, bound to its trigger and id. */
export function wrapKey(master: Buffer, key: Buffer, triggerKey: string, generation: number): string {
  return WRAPPED_PREFIX + seal(master, key, aad("key-v1", triggerKey, generation)).toString("base64url");
}

/** Unwraps a data key; a master key that did not wrap it is a {@link DecryptionError}. */
export function unwrapKey(master: Buffer, wrapped: string, triggerKey: string, generation: number): Buffer {
  const sealed = wrapped.startsWith(WRAPPED_PREFIX)
    ? Buffer.from(wrapped.slice(WRAPPED_PREFIX.length), "base64url")
    : undefined;
  const key =
    sealed?.length === IV_BYTES + KEY_BYTES + TAG_BYTES
      ? open(master, sealed, aad("key-v1", triggerKey, generation))
      : undefined;
  if (key === undefined) {
    throw new DecryptionError(
      "master-key-mismatch",
      "a stored data key does not open with this master key (was the master key rotated by another process?)",
    );
  }
  return key;
}

/** Seals a value's JSON text under a data key, bound to the trigger and the key's generation. */
export function sealValue(key: Buffer, generation: number, triggerKey: string, json: string): string {
  const sealed = seal(key, Buffer.from(json, "utf8"), aad("value-v1", triggerKey, generation));
  const header = Buffer.alloc(GENERATION_BYTES);
  header.writeUInt32BE(generation);
  return VALUE_PREFIX + Buffer.concat([header, sealed]).toString("base64url");
}

/** The parts of a sealed value, checked for form only. */
export interface SealedValue {
  readonly generation: number;
  readonly sealed: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Splits a sealed value; anything but the form {@link sealValue} makes is a {@link DecryptionError}. */
export function parseSealedValue(text: string): SealedValue {
  const body = text.startsWith(VALUE_PREFIX) ? text.slice(VALUE_PREFIX.length) : undefined;
  const bytes = body !== undefined && BASE64URL.test(body) ? Buffer.from(body, "base64url") : undefined;
  if (bytes === undefined || bytes.length < GENERATION_BYTES + IV_BYTES + TAG_BYTES || bytes.readUInt32BE(0) === 0) {
    throw new DecryptionError(
      "malformed-ciphertext",
      `not a ciphertext of this keystore (expected "${VALUE_PREFIX}" and base64url)`,
    );
  }
  return { generation: bytes.readUInt32BE(0), sealed: bytes.subarray(GENERATION_BYTES) };
}

/** Opens a sealed value's JSON text; a changed ciphertext or another trigger is a {@link DecryptionError}. */
export function openValue(key: Buffer, value: SealedValue, triggerKey: string): string {
  const plain = open(key, value.sealed, aad("value-v1", triggerKey, value.generation));
  if (plain === undefined) {
    throw new DecryptionError(
      "decryption-failed",
      "the ciphertext does not authenticate: it was changed, or belongs to another trigger",
    );
  }
  return plain.toString("utf8");
}
