import { ValidationError } from "./errors.js";
import { keyPathOf } from "./key-path.js";
import { DEFAULT_LIMITS, type Json, type Patch } from "./types.js";
import { checkPatch } from "./validate.js";
import { checkJson, isPlainObject } from "./validate-json.js";

type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A shallow copy with a null-safe own-property set (never touches a prototype). */
function copy(value: JsonObject): JsonObject {
  return { ...value };
}

function assocIn(state: JsonObject, path: readonly string[], value: Json): JsonObject {
  const [head, ...rest] = path as [string, ...string[]];
  const out = copy(state);
  if (rest.length === 0) {
    out[head] = value;
  } else {
    const child = Object.hasOwn(state, head) ? state[head] : undefined;
    out[head] = assocIn(isObject(child) ? child : {}, rest, value);
  }
  return out;
}

function dissocIn(state: JsonObject, path: readonly string[]): JsonObject {
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(state, head)) return state;
  if (rest.length === 0) {
    const out = copy(state);
    delete out[head];
    return out;
  }
  const child = state[head];
  if (!isObject(child)) return state;
  const next = dissocIn(child, rest);
  if (next === child) return state;
  const out = copy(state);
  out[head] = next;
  return out;
}

/**
 * Applies a patch to a state, purely: `assoc` first, then `dissoc`. A path assoc
 * creates or merges nested objects (replacing a non-object on its way); a path
 * dissoc on a missing branch changes nothing.
 *
 * @example
 * applyPatch({ a: { d: 2 }, c: 3, d: 4 }, { assoc: [[["a", "b"], 1]], dissoc: ["c"] });
 * // => { a: { b: 1, d: 2 }, d: 4 }
 */
export function applyPatch(state: { readonly [key: string]: Json }, patch: Patch): { [key: string]: Json } {
  if (!isPlainObject(state)) throw new ValidationError("invalid-type", "state", "expected a plain object");
  checkJson(state, "state", Number.MAX_SAFE_INTEGER);
  checkPatch(patch, "patch", DEFAULT_LIMITS);
  return applyPatchUnchecked(state, patch);
}

/** {@link applyPatch} for patches that were validated already (read back from a store). */
export function applyPatchUnchecked(state: { readonly [key: string]: Json }, patch: Patch): { [key: string]: Json } {
  let out = state as JsonObject;
  const { assoc, dissoc } = patch;
  if (Array.isArray(assoc)) {
    for (const [keyPath, value] of assoc as ReadonlyArray<readonly [string | string[], Json]>) {
      out = assocIn(out, keyPathOf(keyPath), value);
    }
  } else if (assoc !== undefined) {
    out = copy(out);
    for (const key of Object.keys(assoc)) out[key] = (assoc as JsonObject)[key] as Json;
  }
  if (dissoc !== undefined) for (const keyPath of dissoc) out = dissocIn(out, keyPathOf(keyPath));
  return out === state ? copy(out) : out;
}
