import { ValidationError } from "./errors.js";

/** True for strings that hold no lone surrogate and no `\u0000` (SPEC section 1). */
export function isCleanString(value: string): boolean {
  return value.isWellFormed() && !value.includes("\u0000");
}

/** Throws unless `value` is a string without lone surrogates or `\u0000`. */
export function checkString(value: unknown, path: string): asserts value is string {
  if (typeof value !== "string")
    throw new ValidationError("invalid-type", path, `expected a string, got ${describe(value)}`);
  if (!isCleanString(value)) {
    throw new ValidationError("invalid-string", path, "a string may hold no lone surrogate and no \\u0000");
  }
}

/** True for `{}`-like objects: prototype `Object.prototype` or `null` (symbol keys are the callers' to check). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws unless `key` may name a field of a stored object. */
export function checkKey(key: string, path: string): void {
  if (key === "__proto__") throw new ValidationError("forbidden-key", path, 'the key "__proto__" is not allowed');
  checkString(key, path);
}

/**
 * Throws unless `value` is a JSON value nested at most `maxDepth` containers
 * deep: null, boolean, finite number, clean string, dense array, plain object.
 * Nothing is changed or coerced; `-0` is accepted and reads back as `0`.
 * `copied`: `value` is a {@link snapshot} copy, whose objects have no symbol
 * keys (the copy rejected them), so they are not looked for again.
 */
export function checkJson(
  value: unknown,
  path: string,
  maxDepth: number,
  copied = false,
  levelsAbove = 0,
  limitName: string | undefined = "limits.depth",
): void {
  walk(value, { root: path, keys: [], copied, levelsAbove, limitName }, 0, maxDepth, []);
}

/** Where the walk is; the path text is only made for an error. */
interface At {
  readonly root: string;
  /** Pushed before a child is walked, popped after. */
  readonly keys: (string | number)[];
  readonly copied: boolean;
  /** Levels of `value` that are not patch values (an assoc object): not counted in the message's limit. */
  readonly levelsAbove: number;
  /** The limit the message names, if any. */
  readonly limitName: string | undefined;
}

function here(at: At): string {
  return pathOf(at.root, at.keys);
}

function walk(value: unknown, at: At, depth: number, maxDepth: number, ancestors: object[]): void {
  switch (typeof value) {
    case "string":
      if (!isCleanString(value)) checkString(value, here(at));
      return;
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new ValidationError("invalid-number", here(at), `expected a finite number, got ${String(value)}`);
      }
      return;
    case "object":
      break;
    default:
      throw new ValidationError("invalid-type", here(at), `expected a JSON value, got ${describe(value)}`);
  }
  if (value === null) return;
  if (ancestors.includes(value)) throw new ValidationError("cycle", here(at), "a value may not contain itself");
  if (depth + 1 > maxDepth) {
    const limit = maxDepth - at.levelsAbove;
    const named = at.limitName === undefined ? "" : ` (${at.limitName})`;
    throw new ValidationError("too-deep", here(at), `values may be nested at most ${limit} levels${named}`);
  }
  ancestors.push(value);
  const { keys } = at;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) {
      throw new ValidationError("invalid-type", here(at), "expected a plain array");
    }
    // A snapshot copy was checked for these already (see `snapshot`).
    if (!at.copied) {
      if (Object.getOwnPropertySymbols(value).length > 0) {
        throw new ValidationError("invalid-type", here(at), "an object may not have symbol keys");
      }
    }
    for (let i = 0; i < value.length; i++) {
      keys.push(i);
      if (!(i in value)) throw new ValidationError("invalid-type", here(at), "expected a JSON value, got a hole");
      walk(value[i], at, depth + 1, maxDepth, ancestors);
      keys.pop();
    }
    // After the elements, so that a hole is reported as one.
    if (!at.copied && Object.keys(value).length !== value.length) {
      throw new ValidationError("invalid-type", here(at), "an array may hold its elements only, not other keys");
    }
  } else {
    if (!isPlainObject(value)) {
      throw new ValidationError("invalid-type", here(at), `expected a JSON value, got ${describe(value)}`);
    }
    if (!at.copied && Object.getOwnPropertySymbols(value).length > 0) {
      throw new ValidationError("invalid-type", here(at), "an object may not have symbol keys");
    }
    for (const key of Object.keys(value)) {
      keys.push(key);
      if (key === "__proto__" || !isCleanString(key)) checkKey(key, here(at));
      walk(value[key], at, depth + 1, maxDepth, ancestors);
      keys.pop();
    }
  }
  ancestors.pop();
}

/** The path of a value `keys` below `root`: field names and array indexes in turn (see {@link fieldPath}). */
export function pathOf(root: string, keys: readonly (string | number)[]): string {
  let path = root;
  for (const key of keys) path = typeof key === "number" ? `${path}[${key}]` : fieldPath(path, key);
  return path;
}

/** `a.b` for plain keys, `a["b c"]` otherwise. */
export function fieldPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A short description of a value for error messages (never the whole value). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "number":
      return Number.isNaN(value) ? "NaN" : String(value);
    case "bigint":
      return `a bigint (${value}n)`;
    case "string":
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case "object": {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== "Object" ? `a ${name}` : "an object";
    }
    default:
      return `a ${typeof value}`;
  }
}
