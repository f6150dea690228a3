import { CoherenceError } from "../model/errors.js";

/** Stable codes of {@link DecryptionError}. */
export type DecryptionCode =
  /** The ciphertext or its tag was changed, or it was decrypted under another trigger. */
  | "decryption-failed"
  /** Not a ciphertext of this keystore (wrong prefix, version or length). */
  | "malformed-ciphertext"
  /** A data key does not open with the master key given: another master key wrapped it. */
  | "master-key-mismatch";

/**
 * A ciphertext, or a stored data key, did not authenticate. A value whose key
 * expired is not an error: it decrypts to {@link REDACTED}.
 *
 * @example
 * try { await keystore.decrypt(["encryption-key", 2], textOfReceipt1) } catch (e) {
 *   if (e instanceof DecryptionError) console.log(e.code); // "decryption-failed"
 * }
 */
export class DecryptionError extends CoherenceError {
  override name = "DecryptionError" as const;
  declare readonly code: DecryptionCode;

  constructor(code: DecryptionCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
