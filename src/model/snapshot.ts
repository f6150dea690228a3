import { ValidationError } from "./errors.js";
import { fieldPath, isPlainObject } from "./validate-json.js";

/**
 * Copies a caller's argument into plain data, reading every property exactly
 * once. Validation and encoding then work on the copy, so a getter or a Proxy
 * that answers differently on each read (or throws) can neither slip a value
 * past validation nor turn a write into another error. Containers JSON would
 * silently change (holes, extra keys on arrays, symbol keys, Date subclasses)
 * are rejected here; values that are not plain data (Map, class instances,
 * functions) are kept as they are, for validation to reject with its message.
 * `-0` is copied as `0`, the value it reads back as.
 *
 * @param maxDepth containers deeper than this are rejected (`too-deep`) before the stack could overflow.
 */
export function snapshot(value: unknown, path: string, maxDepth: number): unknown {
  return copy(value, path, 0, maxDepth, []);
}

function copy(value: unknown, path: string, depth: number, maxDepth: number, ancestors: object[]): unknown {
  // -0 becomes 0 here, as it reads back (JSON has none): a rebase's result reuses the copy's values.
  if (typeof value !== "object" || value === null) return value === 0 ? 0 : value;
  try {
    if (ancestors.includes(value)) throw new ValidationError("cycle", path, "a value may not contain itself");
    if (depth > maxDepth) {
      throw new ValidationError("too-deep", path, `values may be nested at most ${maxDepth} levels (limits.depth)`);
    }
    if (value instanceof Date) return copyDate(value, path);
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) {
        throw new ValidationError("invalid-type", path, "expected a plain array, not a subclass");
      }
      checkNoSymbols(value, path);
      const length = value.length;
      for (let i = 0; i < length; i++) {
        if (!(i in value)) throw new ValidationError("invalid-type", `${path}[${i}]`, "expected a value, got a hole");
      }
      if (Object.keys(value).length !== length) {
        throw new ValidationError("invalid-type", path, "an array may hold its elements only, not other keys");
      }
      ancestors.push(value);
      const out = new Array<unknown>(length);
      for (let i = 0; i < length; i++) out[i] = copy(value[i], `${path}[${i}]`, depth + 1, maxDepth, ancestors);
      ancestors.pop();
      return out;
    }
    if (!isPlainObject(value)) return value;
    checkNoSymbols(value, path);
    ancestors.push(value);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const at = fieldPath(path, key);
      // Assigning this key would set the copy's prototype instead of a field.
      if (key === "__proto__") throw new ValidationError("forbidden-key", at, 'the key "__proto__" is not allowed');
      out[key] = copy(value[key], at, depth + 1, maxDepth, ancestors);
    }
    ancestors.pop();
    return out;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError("unreadable", path, `reading the value threw: ${String(error)}`, { cause: error });
  }
}

function checkNoSymbols(value: object, path: string): void {
  if (Object.getOwnPropertySymbols(value).length > 0) {
    throw new ValidationError("invalid-type", path, "an object may not have symbol keys");
  }
}

/** A Date reads back as a plain Date of the same time: subclasses, extra keys and Proxies would not. */
function copyDate(value: Date, path: string): Date {
  if (Object.getPrototypeOf(value) !== Date.prototype || Reflect.ownKeys(value).length > 0) {
    throw new ValidationError("invalid-type", path, "expected a plain Date");
  }
  // Throws for a Proxy of a Date (it has no time of its own): reported as unreadable.
  return new Date(Date.prototype.getTime.call(value));
}
