import { createHash } from "node:crypto";
import type { EncodedIdentity } from "../model/codec.js";

/** The key column of a trigger's data key: bounded, where ids are not (MySQL keys no unbounded text). */
export function triggerDigest(trigger: EncodedIdentity): string {
  return createHash("sha256").update(trigger.key).digest("base64url");
}
