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

/**
 * A 53-bit hash of an identity key, a safe integer. The SQL stores index this
 * column instead of unbounded text; every query also compares the exact kind
 * and id, so a collision costs a row read, never a wrong answer.
 */
export function hashKey(key: string): number {
  // The top 53 bits of the SHA-256 digest. One-shot `crypto.hash` (Node 20.12+) in hex is about
  // three times as fast as a Hash object and a Buffer for a key this short.
  if (oneShot === undefined) {
    const digest = crypto.createHash("sha256").update(key).digest();
    return digest.readUIntBE(0, 6) * 32 + (digest[6]! >>> 3);
  }
  const hex = oneShot("sha256", key, "hex");
  return Number.parseInt(hex.slice(0, 12), 16) * 32 + (Number.parseInt(hex.slice(12, 14), 16) >>> 3);
}
