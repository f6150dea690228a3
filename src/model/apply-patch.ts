import { ValidationError } from "./errors.js";
import { keyPathOf } from "./key-path.js";
import { snapshot } from "./snapshot.js";
import { DEFAULT_LIMITS, type Json, type Patch } from "./types.js";
import { checkPatch, MAX_DEPTH } from "./validate.js";
import { checkJson, isPlainObject } from "./validate-json.js";

type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A shallow copy with a null-safe own-property set (never touches a prototype). */
function copy(value: JsonObject): JsonObject {
  return { ...value };
}

/**
 * The objects one application of a patch made: a later pair or dissoc of the
 * same patch changes them in place instead of copying them again (a patch of
 * 1,000 pairs on a state of 100,000 fields copied it 1,000 times). Nothing
 * else is ever changed: the state and the patch's values are copied.
 */
type Own = Set<JsonObject>;

/** `object`, or its copy where this application did not make it: what may be changed in place. */
function writable(object: JsonObject, own: Own): JsonObject {
  if (own.has(object)) return object;
  const made = copy(object);
  own.add(made);
  return made;
}

/** `state` with `value` at `path`, copying each object on the way (a loop: a path may be 1,000 keys). */
function assocIn(state: JsonObject, path: readonly string[], value: Json, own: Own): JsonObject {
  const last = path.length - 1;
  const objects = new Array<JsonObject>(path.length);
  let node = state;
  for (let i = 0; i < last; i++) {
    objects[i] = node;
    const child = Object.hasOwn(node, path[i] as string) ? node[path[i] as string] : undefined;
    node = isObject(child) ? child : {};
  }
  objects[last] = node;
  let out: Json = value;
  for (let i = last; i >= 0; i--) {
    const next = writable(objects[i] as JsonObject, own);
    next[path[i] as string] = out;
    out = next;
  }
  return out as JsonObject;
}

/** `state` without the field at `path`; `state` itself when there is none. */
function dissocIn(state: JsonObject, path: readonly string[], own: Own): JsonObject {
  const last = path.length - 1;
  const objects = new Array<JsonObject>(path.length);
  let node = state;
  for (let i = 0; i < last; i++) {
    if (!Object.hasOwn(node, path[i] as string)) return state;
    const child = node[path[i] as string];
    if (!isObject(child)) return state;
    objects[i] = node;
    node = child;
  }
  if (!Object.hasOwn(node, path[last] as string)) return state;
  let out = writable(node, own);
  delete out[path[last] as string];
  for (let i = last - 1; i >= 0; i--) {
    const next = writable(objects[i] as JsonObject, own);
    next[path[i] as string] = out;
    out = next;
  }
  return out;
}

/** The patches of a store of any `limits.depth`: applyPatch folds what any store gives back. */
const PATCH_LIMITS = { ...DEFAULT_LIMITS, depth: MAX_DEPTH };

/**
 * How deep a state {@link applyPatch} copies: a patch of `MAX_DEPTH` levels at
 * a path of up to `MAX_DEPTH` keys (a store written before key paths were
 * limited may hold longer ones), within what the stack takes.
 */
const STATE_DEPTH = 3 * MAX_DEPTH;

/**
 * Applies a patch to a state, purely: `assoc` first, then `dissoc`. A path assoc
 * creates or merges nested objects (replacing a non-object on its way); a path
 * dissoc on a missing branch changes nothing.
 *
 * @example
 * applyPatch({ a: { d: 2 }, c: 3, d: 4 }, { assoc: [[["a", "b"], 1]], dissoc: ["c"] });
 * // => { a: { b: 1, d: 2 }, d: 4 }
 */
export function applyPatch(givenState: { readonly [key: string]: Json }, givenPatch: Patch): { [key: string]: Json } {
  // Each argument read once, into a copy: what is checked is what is applied (holes, getters and
  // Proxies that answer differently on a second read are refused or read once).
  // A pure function of values: -0 stays -0, and objects without a prototype fold as plain ones.
  // At most a million values, a value reached twice counted twice (see `snapshot`).
  const state = snapshot(givenState, "state", STATE_DEPTH, { negativeZero: true });
  const patch = snapshot(givenPatch, "patch", MAX_DEPTH + 64, { negativeZero: true }) as Patch;
  if (!isPlainObject(state)) throw new ValidationError("invalid-type", "state", "expected a plain object");
  // A store folds patches of at most `MAX_DEPTH` levels, at paths of at most `MAX_DEPTH` keys.
  try {
    checkJson(state, "state", Number.MAX_SAFE_INTEGER, false, 0, undefined);
  } catch (error) {
    // The check recurses: a state deeper than the stack allows (thousands of levels) is refused, not a crash.
    if (!(error instanceof RangeError)) throw error;
    throw new ValidationError("too-deep", "state", "nested too deeply to be checked", { cause: error });
  }
  // Paths of any length: a store written before key paths were limited may hold longer ones (a loop folds them).
  checkPatch(patch, "patch", PATCH_LIMITS, false, Number.POSITIVE_INFINITY);
  return applyPatchUnchecked(state as JsonObject, patch);
}

/** {@link applyPatch} for patches that were validated already (read back from a store). */
export function applyPatchUnchecked(state: { readonly [key: string]: Json }, patch: Patch): { [key: string]: Json } {
  let out = state as JsonObject;
  const { assoc, dissoc } = patch;
  if (assoc !== undefined && !Array.isArray(assoc)) {
    // An assoc map takes one copy; the common patch, without a dissoc, needs no more.
    out = copy(out);
    for (const key of Object.keys(assoc)) out[key] = (assoc as JsonObject)[key] as Json;
    if (dissoc === undefined) return out;
  }
  const own: Own = new Set(out === state ? [] : [out]);
  if (Array.isArray(assoc)) {
    for (const [keyPath, value] of assoc as ReadonlyArray<readonly [string | string[], Json]>) {
      out = assocIn(out, keyPathOf(keyPath), value, own);
    }
  }
  if (dissoc !== undefined) for (const keyPath of dissoc) out = dissocIn(out, keyPathOf(keyPath), own);
  return out === state ? copy(out) : out;
}
