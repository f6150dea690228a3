import type { KeyPath } from "./types.js";

/** The path a key path names: `"a"` and `["a"]` are the same field. */
export function keyPathOf(keyPath: KeyPath): readonly string[] {
  return typeof keyPath === "string" ? [keyPath] : keyPath;
}
