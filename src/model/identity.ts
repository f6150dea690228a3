import * as crypto from "node:crypto";
import type { Id, Identity } from "./types.js";

/**
 * The stored text of an id: its JSON, so that `1` (`1`) and `"1"` (`"1"`) stay
 * apart and read back with their type.
 */
export function encodeId(id: Id): string {
  return JSON.stringify(id);
}

/** The inverse of {@link encodeId}. */
export function decodeId(text: string): Id {
  return JSON.parse(text) as Id;
}

/** An exact, unambiguous map key for an identity (`\u0000` never occurs in a kind). */
export function identityKey(kind: string, idText: string): string {
  return `${kind}\u0000${idText}`;
}

/** {@link identityKey} of an identity value. */
export function keyOf(identity: Identity): string {
  return identityKey(identity[0], encodeId(identity[1]));
}

/** `crypto.hash`, where this Node has it (20.12 and later). */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;

/** Hashes of recent short keys: writers touch the same aggregates again and again. */
const recentHashes = new Map<string, number>();
const RECENT_HASHES = 4096;
const CACHED_KEY_LENGTH = 256;

/**
 * A 53-bit hash of an identity key, a safe integer. The SQL stores index this
 * column instead of unbounded text; every query also compares the exact kind
 * and id, so a collision costs a row read, never a wrong answer.
 */
export function hashKey(key: string): number {
  const known = recentHashes.get(key);
  if (known !== undefined) return known;
  const hash = sha256Bits53(key);
  if (key.length <= CACHED_KEY_LENGTH) {
    if (recentHashes.size >= RECENT_HASHES) recentHashes.clear();
    recentHashes.set(key, hash);
  }
  return hash;
}

/** The top 53 bits of the SHA-256 digest of `key`'s UTF-8. */
function sha256Bits53(key: string): number {
  // One-shot `crypto.hash` in hex is about three times as fast as a Hash object and a Buffer for a key this short.
  if (oneShot === undefined) {
    const digest = crypto.createHash("sha256").update(key).digest();
    return digest.readUIntBE(0, 6) * 32 + (digest[6]! >>> 3);
  }
  const hex = oneShot("sha256", key, "hex");
  return Number.parseInt(hex.slice(0, 12), 16) * 32 + (Number.parseInt(hex.slice(12, 14), 16) >>> 3);
}
