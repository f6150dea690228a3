import { type ValidationCode, ValidationError } from "./errors.js";
import { isPlainObject, pathOf } from "./validate-json.js";

/**
 * Copies a caller's argument into plain data, reading every property exactly
 * once. Validation and encoding then work on the copy, so a getter or a Proxy
 * that answers differently on each read (or throws) can neither slip a value
 * past validation nor turn a write into another error. Containers JSON would
 * silently change (holes, extra keys on arrays, symbol keys, Date subclasses)
 * are rejected here; values that are not plain data (Map, class instances,
 * functions) are kept as they are, for validation to reject with its message.
 * `-0` is copied as `0`, the value it reads back as (unless `negativeZero`).
 *
 * @param maxDepth containers deeper than this are rejected (`too-deep`) before the stack could overflow.
 */
export function snapshot(value: unknown, path: string, maxDepth: number, options: SnapshotOptions = {}): unknown {
  const { maxLength, depthLimit, maxValues = DEFAULT_MAX_VALUES, stored = false, negativeZero = false } = options;
  const budget = { left: maxValues.max };
  const at = { root: path, keys: [], maxLength, depthLimit, maxValues, budget, stored, negativeZero };
  try {
    return copy(value, at, 0, maxDepth, []);
  } catch (error) {
    // Made here, with the stack unwound: a refusal may come from thousands of levels down, where
    // even the regular expression that writes a path could find no room to compile.
    if (error instanceof Refusal)
      throw new ValidationError(error.code, pathOf(path, error.keys), error.message, error.options);
    throw error;
  }
}

/** A refusal found during the copy: the ValidationError {@link snapshot} throws, without its path written yet. */
class Refusal {
  constructor(
    readonly code: ValidationCode,
    readonly keys: readonly (string | number)[],
    readonly message: string,
    readonly options?: { cause: unknown },
  ) {}
}

/** A {@link Refusal} at the value being copied. */
function refuse(at: At, code: ValidationCode, message: string, options?: { cause: unknown }): Refusal {
  return new Refusal(code, [...at.keys], message, options);
}

/** The bounds and rules of a {@link snapshot}'s copy beyond its depth. */
export interface SnapshotOptions {
  /**
   * An array `value` longer than this is rejected (`too-many`) before any element is copied: a
   * history of a million events costs nothing to refuse. `limitName` names the limit.
   */
  readonly maxLength?: { readonly max: number; readonly limitName: string } | undefined;
  /** What the message of a `too-deep` names as the limit (the copy's own bound is room for a valid argument). */
  readonly depthLimit?: string | undefined;
  /**
   * The most values (containers and the rest) the copy may hold, or each entry of an array
   * `value` where `perEntry`: past it the copy stops with `too-large` at that path. An object
   * reached twice is copied twice, as JSON writes it, so a few shared arrays nested 30 levels
   * deep would copy to a billion values; a value takes a byte of JSON at least, so an event's
   * budget is `limits.eventBytes`.
   */
  readonly maxValues?: MaxValues | undefined;
  /**
   * The value is stored and read back: an object without a prototype (`Object.create(null)`)
   * is rejected, since it would read back as a plain object, not deepStrictEqual to it.
   */
  readonly stored?: boolean | undefined;
  /** `-0` is copied as it is, not as `0` (the value it reads back as from a store). */
  readonly negativeZero?: boolean | undefined;
}

/** The bound of a {@link snapshot}'s copy: see its `maxValues`. */
export interface MaxValues {
  readonly max: number;
  /** Each entry of the root array has a budget of its own (the events of a history). */
  readonly perEntry?: boolean;
  /** What the message names as the limit, such as `limits.eventBytes`. */
  readonly limitName?: string;
}

/**
 * The budget of a value that goes into an event (a history's events, each on
 * its own; a keystore's value, sealed into one): `limits.eventBytes` values,
 * since a value takes a byte of JSON at least.
 */
export function eventValues(eventBytes: number, perEntry = false): MaxValues {
  return { max: eventBytes, perEntry, limitName: "limits.eventBytes: a value takes a byte at least" };
}

/**
 * The budget of a copy whose argument has no limit of its own (options, identities): room for
 * 300,000 identities in a stream's filter (three values each), refused within a quarter of a
 * second however it is shared.
 */
const DEFAULT_MAX_VALUES: MaxValues = { max: 1_000_000 };

/**
 * Where the copy is: the argument's path and the keys below it. The path text
 * is only made for an error (making it for every value cost more than the copy).
 */
interface At {
  readonly root: string;
  /** Pushed before a child is copied and popped after; left as it was when a child throws. */
  readonly keys: (string | number)[];
  /** The longest the root array may be. */
  readonly maxLength?: { readonly max: number; readonly limitName: string } | undefined;
  readonly depthLimit?: string | undefined;
  readonly maxValues: MaxValues;
  readonly stored: boolean;
  readonly negativeZero: boolean;
  /** Values the copy (or the root entry being copied) may still hold. */
  readonly budget: { left: number };
}

function copy(value: unknown, at: At, depth: number, maxDepth: number, ancestors: object[]): unknown {
  if (--at.budget.left < 0) throw tooLarge(at);
  // -0 becomes 0 here, as it reads back (JSON has none): a rebase's result reuses the copy's values.
  if (typeof value !== "object" || value === null) return value === 0 && !at.negativeZero ? 0 : value;
  try {
    if (ancestors.includes(value)) throw refuse(at, "cycle", "a value may not contain itself");
    if (depth > maxDepth) {
      const limit = at.depthLimit === undefined ? "" : `: ${at.depthLimit}`;
      throw refuse(at, "too-deep", `nested deeper than any valid ${at.root} goes${limit}`);
    }
    if (value instanceof Date) return copyDate(value, at);
    const { keys } = at;
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) {
        throw refuse(at, "invalid-type", "expected a plain array, not a subclass");
      }
      checkNoSymbols(value, at);
      const length = value.length;
      if (depth === 0 && at.maxLength !== undefined && length > at.maxLength.max) {
        const { max, limitName } = at.maxLength;
        throw refuse(at, "too-many", `at most ${max} entries (limits.${limitName}), got ${length}`);
      }
      for (let i = 0; i < length; i++) {
        if (!(i in value)) {
          keys.push(i);
          throw refuse(at, "invalid-type", "expected a value, got a hole");
        }
      }
      if (Object.keys(value).length !== length) {
        throw refuse(at, "invalid-type", "an array may hold its elements only, not other keys");
      }
      ancestors.push(value);
      const out = new Array<unknown>(length);
      const perEntry = depth === 0 && at.maxValues.perEntry === true;
      for (let i = 0; i < length; i++) {
        // Read after the key is pushed: a getter that throws is reported at its own path.
        keys.push(i);
        if (perEntry) at.budget.left = at.maxValues.max;
        const item = value[i];
        out[i] = copy(item, at, depth + 1, maxDepth, ancestors);
        keys.pop();
      }
      ancestors.pop();
      return out;
    }
    if (!isPlainObject(value)) return value;
    if (at.stored && Object.getPrototypeOf(value) === null) {
      throw refuse(
        at,
        "invalid-type",
        "an object without a prototype (Object.create(null)) would read back as a plain object: copy it into {} first",
      );
    }
    checkNoSymbols(value, at);
    ancestors.push(value);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      // Assigning this key would set the copy's prototype instead of a field.
      if (key === "__proto__") {
        keys.push(key);
        throw refuse(at, "forbidden-key", 'the key "__proto__" is not allowed');
      }
      keys.push(key);
      const item = value[key];
      out[key] = copy(item, at, depth + 1, maxDepth, ancestors);
      keys.pop();
    }
    ancestors.pop();
    return out;
  } catch (error) {
    if (error instanceof Refusal) throw error;
    // The stack ran out before `maxDepth` (its room depends on the caller's frames): too deep all the same.
    if (error instanceof RangeError && error.message.includes("call stack")) {
      throw refuse(at, "too-deep", `nested deeper than ${at.root} can be copied`);
    }
    throw refuse(at, "unreadable", `reading the value threw: ${String(error)}`, { cause: error });
  }
}

/** The copy went past its budget: at the root, or at the root's entry where each has its own. */
function tooLarge(at: At): Refusal {
  const { max, perEntry, limitName } = at.maxValues;
  const limit = limitName === undefined ? "" : ` (${limitName})`;
  return new Refusal(
    "too-large",
    perEntry ? at.keys.slice(0, 1) : [],
    `holds more than ${max} values${limit}, counting a value reached twice twice, as its JSON would`,
  );
}

function checkNoSymbols(value: object, at: At): void {
  if (Object.getOwnPropertySymbols(value).length > 0) {
    throw refuse(at, "invalid-type", "an object may not have symbol keys");
  }
}

/** A Date reads back as a plain Date of the same time: subclasses, extra keys and Proxies would not. */
function copyDate(value: Date, at: At): Date {
  if (Object.getPrototypeOf(value) !== Date.prototype || Reflect.ownKeys(value).length > 0) {
    throw refuse(at, "invalid-type", "expected a plain Date");
  }
  // Throws for a Proxy of a Date (it has no time of its own): reported as unreadable.
  return new Date(Date.prototype.getTime.call(value));
}
