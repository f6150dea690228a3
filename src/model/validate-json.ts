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

/** True for `{}`-like objects: prototype `Object.prototype` or `null`, no symbol keys. */
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
 */
export function checkJson(value: unknown, path: string, maxDepth: number): void {
  walk(value, path, 0, maxDepth, []);
}

function walk(value: unknown, path: string, depth: number, maxDepth: number, ancestors: object[]): void {
  switch (typeof value) {
    case "string":
      if (!isCleanString(value)) checkString(value, path);
      return;
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new ValidationError("invalid-number", path, `expected a finite number, got ${String(value)}`);
      }
      return;
    case "object":
      break;
    default:
      throw new ValidationError("invalid-type", path, `expected a JSON value, got ${describe(value)}`);
  }
  if (value === null) return;
  if (ancestors.includes(value)) throw new ValidationError("cycle", path, "a value may not contain itself");
  if (depth + 1 > maxDepth) {
    throw new ValidationError("too-deep", path, `values may be nested at most ${maxDepth} levels (limits.depth)`);
  }
  ancestors.push(value);
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) {
      throw new ValidationError("invalid-type", path, "expected a plain array");
    }
    for (let i = 0; i < value.length; i++) {
      if (!(i in value))
        throw new ValidationError("invalid-type", `${path}[${i}]`, "expected a JSON value, got a hole");
      walk(value[i], `${path}[${i}]`, depth + 1, maxDepth, ancestors);
    }
  } else {
    if (!isPlainObject(value)) {
      throw new ValidationError("invalid-type", path, `expected a JSON value, got ${describe(value)}`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new ValidationError("invalid-type", path, "an object may not have symbol keys");
    }
    for (const key of Object.keys(value)) {
      const child = fieldPath(path, key);
      checkKey(key, child);
      walk(value[key], child, depth + 1, maxDepth, ancestors);
    }
  }
  ancestors.pop();
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
