import { ValidationError } from "../model/errors.js";
import { describe } from "../model/validate-json.js";

/** The environment variable a keystore reads its master key from when no option gives one. */
export const MASTER_KEY_ENV = "COHERENCE_MASTER_KEY";

/** AES-256: every key, master or data, is 32 bytes. */
export const KEY_BYTES = 32;

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}$/;

/**
 * Reads a master key: 32 bytes, as bytes, 64 hex digits, or base64 (standard
 * or URL-safe). Messages name where the key came from, never the key.
 */
export function parseMasterKey(value: unknown, path: string): Buffer {
  if (value instanceof Uint8Array) {
    if (value.length !== KEY_BYTES) {
      throw new ValidationError("invalid-key", path, `expected ${KEY_BYTES} bytes, got ${value.length}`);
    }
    // A copy: the caller may wipe or reuse its buffer.
    return Buffer.from(value);
  }
  if (typeof value !== "string") {
    throw new ValidationError(
      "invalid-key",
      path,
      `expected 32 bytes as hex, base64 or a Uint8Array, got ${describe(value)}`,
    );
  }
  const text = value.trim();
  if (HEX.test(text)) return Buffer.from(text, "hex");
  if (BASE64.test(text)) {
    const bytes = Buffer.from(text, text.includes("-") || text.includes("_") ? "base64url" : "base64");
    if (bytes.length === KEY_BYTES) return bytes;
  }
  throw new ValidationError(
    "invalid-key",
    path,
    `expected ${KEY_BYTES} bytes as 64 hex digits or 44 base64 characters (a text of ${text.length} characters was given)`,
  );
}

/** The master key of a keystore: the option, else {@link MASTER_KEY_ENV}; undefined when neither is set. */
export function resolveMasterKey(option: unknown): Buffer | undefined {
  if (option !== undefined) return parseMasterKey(option, "options.masterKey");
  const env = process.env[MASTER_KEY_ENV];
  if (env === undefined || env === "") return undefined;
  return parseMasterKey(env, MASTER_KEY_ENV);
}
