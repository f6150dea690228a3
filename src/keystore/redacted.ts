/**
 * What {@link Keystore.decrypt} gives once the data key of a trigger is gone:
 * a plain JSON object, so that a projection can store it in a read model as is
 * and still recognize it later with {@link isRedacted}.
 */
export type Redacted = { readonly "coherence:redacted": true };

/**
 * The redaction marker: a frozen, JSON-safe object.
 *
 * @example
 * const no = await keystore.decrypt(["encryption-key", 1], receipt.no);
 * console.log(no === REDACTED || isRedacted(no)); // true once the key expired
 */
export const REDACTED: Redacted = Object.freeze({ "coherence:redacted": true });

/**
 * True for the redaction marker, also after a JSON round trip (a copy with
 * the same single key).
 *
 * @example
 * const view = isRedacted(no) ? "(forgotten)" : String(no);
 */
export function isRedacted(value: unknown): value is Redacted {
  if (value === REDACTED) return true;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (value as Record<string, unknown>)["coherence:redacted"] === true;
}
