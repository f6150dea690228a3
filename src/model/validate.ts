import { ValidationError } from "./errors.js";
import { keyOf } from "./identity.js";
import { keyPathOf } from "./key-path.js";
import { eventValues, snapshot } from "./snapshot.js";
import type { Identity, Limits, NewEvent, RebaseOptions, StreamOptions } from "./types.js";
import { checkJson, checkKey, checkString, describe, fieldPath, isPlainObject } from "./validate-json.js";

const MAX_KIND_LENGTH = 200;

/** Nesting allowed in the copy of arguments that hold no patch (stream options). */
const DEFAULT_SNAPSHOT_DEPTH = 16;

/**
 * Throws unless `value` is a plain object whose keys are among `allowed` and
 * whose defined keys include `required`. An allowed key whose value is
 * `undefined` counts as absent; an unknown key is refused whatever its value
 * (a misspelt optional key would otherwise pass while its value happens to be
 * `undefined`, and fail once it is not).
 */
export function checkObject(
  value: unknown,
  path: string,
  allowed: readonly string[],
  required: readonly string[] = [],
): asserts value is Record<string, unknown> {
  // A class instance (a Map, a Date) is no record of fields: it would not read back as given.
  if (!isPlainObject(value)) {
    throw new ValidationError("invalid-type", path, `expected an object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      if (key === "seqNo") {
        throw new ValidationError(
          "seq-no-given",
          `${path}.seqNo`,
          "a new event carries no seqNo: the store assigns it",
        );
      }
      throw new ValidationError(
        "unknown-key",
        `${path}.${key}`,
        `unknown key ${JSON.stringify(key)} (expected ${allowed.join(", ")})`,
      );
    }
  }
  for (const key of required) {
    if (record[key] === undefined) throw new ValidationError("missing-key", `${path}.${key}`, "is required");
  }
}

/** Throws unless `value` is a `Kind`: a clean, non-empty string of at most 200 UTF-16 code units. */
export function checkKind(value: unknown, path: string): asserts value is string {
  checkString(value, path);
  if (value.length === 0) throw new ValidationError("empty", path, "expected a non-empty string");
  if (value.length > MAX_KIND_LENGTH) {
    throw new ValidationError("too-long", path, `at most ${MAX_KIND_LENGTH} characters, got ${value.length}`);
  }
}

/** Throws unless `value` is an `Id`: a safe integer or a clean, non-empty string. */
export function checkId(value: unknown, path: string): asserts value is number | string {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new ValidationError(
        "invalid-number",
        path,
        `expected a safe integer or a non-empty string, got ${describe(value)}`,
      );
    }
    return;
  }
  if (typeof value !== "string" || value.length === 0) {
    throw new ValidationError(
      "invalid-type",
      path,
      `expected a safe integer or a non-empty string, got ${describe(value)}`,
    );
  }
  checkString(value, path);
}

/** Throws unless `value` is an `Identity`: exactly `[Kind, Id]`. */
export function checkIdentity(value: unknown, path: string): asserts value is Identity {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new ValidationError("invalid-type", path, `expected [kind, id], got ${describe(value)}`);
  }
  checkKind(value[0], `${path}[0]`);
  checkId(value[1], `${path}[1]`);
}

/**
 * A plain copy of an argument that holds no patch, each of its properties read
 * once (see {@link snapshot}): what is checked is what is used.
 */
export function readArgument(value: unknown, path: string): unknown {
  return snapshot(value, path, DEFAULT_SNAPSHOT_DEPTH);
}

/** A ValidationError for a value whose reading threw (a getter or a Proxy of the caller's). */
function unreadable(path: string, error: unknown): ValidationError {
  return new ValidationError("unreadable", path, `reading the value threw: ${String(error)}`, { cause: error });
}

/**
 * A copy of a plain object's own keys, each read once, their values as they
 * are (a pool, a Buffer, a driver's settings with cycles are the driver's to
 * read); anything but a plain object is given back as it is, for the checks.
 */
export function readShallow(value: unknown, path: string): unknown {
  let plain: boolean;
  let keys: string[];
  try {
    plain = isPlainObject(value);
    keys = plain ? Object.keys(value as object) : [];
  } catch (error) {
    throw unreadable(path, error);
  }
  if (!plain) return value;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    let item: unknown;
    try {
      item = (value as Record<string, unknown>)[key];
    } catch (error) {
      throw unreadable(fieldPath(path, key), error);
    }
    // Defined, not assigned: a "__proto__" key stays a key, for the checks to refuse.
    Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A copy of a Date argument (subclasses too), read once; a valid one, else a ValidationError. */
export function readDate(value: unknown, path: string): Date {
  let time: number;
  try {
    if (!(value instanceof Date)) {
      throw new ValidationError("invalid-type", path, `expected a Date, got ${describe(value)}`);
    }
    time = Date.prototype.getTime.call(value);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw unreadable(path, error);
  }
  if (Number.isNaN(time)) throw new ValidationError("invalid-date", path, "an invalid Date");
  return new Date(time);
}

/** {@link readArgument} of an `Identity`, checked. */
export function readIdentity(value: unknown, path: string): Identity {
  const copy = readArgument(value, path);
  checkIdentity(copy, path);
  return copy;
}

/** Throws unless `value` is a positive safe integer; `expected` names what the caller takes, for the message. */
export function checkPositive(
  value: unknown,
  path: string,
  expected = "a positive safe integer",
): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError("invalid-number", path, `expected ${expected}, got ${describe(value)}`);
  }
}

/** Throws unless `value` is a non-empty array of at most `max` entries. */
export function checkList(value: unknown, path: string, max: number, limitName?: string): asserts value is unknown[] {
  if (!Array.isArray(value))
    throw new ValidationError("invalid-type", path, `expected an array, got ${describe(value)}`);
  if (value.length === 0) throw new ValidationError("empty", path, "expected a non-empty array");
  if (value.length > max) {
    const limit = limitName ? ` (limits.${limitName})` : "";
    throw new ValidationError("too-many", path, `at most ${max} entries${limit}, got ${value.length}`);
  }
}

/** Throws unless every identity of the list is distinct. */
function checkDistinctIdentities(list: readonly Identity[], path: string): void {
  const seen = new Set<string>();
  list.forEach((identity, i) => {
    const key = keyOf(identity);
    if (seen.has(key)) throw new ValidationError("not-distinct", `${path}[${i}]`, "appears twice");
    seen.add(key);
  });
}

/** A key path longer than `maxKeys` is refused: each key nests the value one level deeper. */
function checkKeyPath(value: unknown, path: string, maxKeys: number): void {
  if (typeof value === "string") {
    checkKey(value, path);
    return;
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError(
      "invalid-type",
      path,
      `expected a key or a non-empty array of keys, got ${describe(value)}`,
    );
  }
  if (value.length > maxKeys) {
    throw new ValidationError(
      "too-deep",
      path,
      `a key path may have at most ${maxKeys} keys (limits.depth), got ${value.length}`,
    );
  }
  value.forEach((key, i) => {
    if (typeof key !== "string") {
      throw new ValidationError("invalid-type", `${path}[${i}]`, `expected a string key, got ${describe(key)}`);
    }
    checkKey(key, `${path}[${i}]`);
  });
}

/** Throws unless `value` is a valid `Patch`; `copied` as for {@link checkJson}. */
export function checkPatch(
  value: unknown,
  path: string,
  limits: Limits,
  copied = false,
  maxKeys: number = limits.depth,
): void {
  checkObject(value, path, ["assoc", "dissoc"]);
  const { assoc, dissoc } = value;
  if (assoc === undefined && dissoc === undefined) {
    throw new ValidationError("missing-key", path, "a patch needs assoc or dissoc");
  }
  if (assoc !== undefined) {
    const at = `${path}.assoc`;
    if (Array.isArray(assoc)) {
      if (assoc.length === 0) throw new ValidationError("empty", at, "expected at least one [keyPath, value] pair");
      assoc.forEach((pair, i) => {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new ValidationError("invalid-type", `${at}[${i}]`, `expected [keyPath, value], got ${describe(pair)}`);
        }
        checkKeyPath(pair[0], `${at}[${i}][0]`, maxKeys);
        checkJson(pair[1], `${at}[${i}][1]`, limits.depth, copied);
      });
    } else {
      if (!isPlainObject(assoc)) {
        throw new ValidationError("invalid-type", at, `expected an object or a list of pairs, got ${describe(assoc)}`);
      }
      if (Object.keys(assoc).length === 0) throw new ValidationError("empty", at, "expected at least one key");
      // The object itself is level 0: its values may nest `depth` levels.
      checkJson(assoc, at, limits.depth + 1, copied, 1);
    }
  }
  if (dissoc !== undefined) {
    const at = `${path}.dissoc`;
    if (!Array.isArray(dissoc))
      throw new ValidationError("invalid-type", at, `expected an array, got ${describe(dissoc)}`);
    if (dissoc.length === 0) throw new ValidationError("empty", at, "expected at least one key path");
    const seen = new Set<string>();
    dissoc.forEach((keyPath, i) => {
      checkKeyPath(keyPath, `${at}[${i}]`, maxKeys);
      const key = JSON.stringify(keyPathOf(keyPath as string | string[]));
      if (seen.has(key)) throw new ValidationError("not-distinct", `${at}[${i}]`, "names a field already named");
      seen.add(key);
    });
  }
}

/** An upper bound of the UTF-16 length of a string's JSON (every code unit escaped as `\\u0000`). */
function jsonBound(text: string): number {
  return 6 * text.length + 2;
}

/** An upper bound of the UTF-16 length of an identity's JSON (a safe integer takes at most 17 characters). */
function identityBound(identity: Identity): number {
  const id = identity[1];
  return 3 + jsonBound(identity[0]) + (typeof id === "number" ? 17 : jsonBound(id));
}

/**
 * Throws unless `value`, a {@link snapshot} copy, is one valid `NewAction` or `NewEffect` within the
 * limits. Returns the JSON text of an action's patch (undefined for an
 * effect): measured here for `limits.eventBytes`, reused by encoding.
 */
export function checkNewEvent(value: unknown, path: string, limits: Limits): string | undefined {
  checkObject(value, path, ["timestamp", "source", "action", "triggers", "effect"], ["timestamp", "source"]);
  const { timestamp, source, action, effect, triggers } = value;
  if (!(timestamp instanceof Date)) {
    throw new ValidationError("invalid-type", `${path}.timestamp`, `expected a Date, got ${describe(timestamp)}`);
  }
  if (Number.isNaN(timestamp.getTime()))
    throw new ValidationError("invalid-date", `${path}.timestamp`, "an invalid Date");
  checkKind(source, `${path}.source`);
  if ((action === undefined) === (effect === undefined)) {
    throw new ValidationError("missing-key", path, "an event holds exactly one of action and effect");
  }
  if (action !== undefined) {
    const at = `${path}.action`;
    checkObject(action, at, ["reason", "actor", "aggregate", "patch"], ["reason", "actor", "aggregate", "patch"]);
    checkKind(action.reason, `${at}.reason`);
    checkIdentity(action.actor, `${at}.actor`);
    checkIdentity(action.aggregate, `${at}.aggregate`);
    checkPatch(action.patch, `${at}.patch`, limits, true);
    if (triggers !== undefined) {
      const tp = `${path}.triggers`;
      checkList(triggers, tp, Number.MAX_SAFE_INTEGER);
      for (const [i, t] of triggers.entries()) checkIdentity(t, `${tp}[${i}]`);
      checkDistinctIdentities(triggers as Identity[], tp);
    }
  } else {
    if (triggers !== undefined) {
      throw new ValidationError("unknown-key", `${path}.triggers`, "an effect has no triggers");
    }
    const at = `${path}.effect`;
    checkObject(effect, at, ["reason", "trigger"], ["reason", "trigger"]);
    checkKind(effect.reason, `${at}.reason`);
    checkIdentity(effect.trigger, `${at}.trigger`);
  }
  const patch = action === undefined ? undefined : JSON.stringify(action.patch);
  // A UTF-16 code unit takes at most 3 bytes of UTF-8: an event whose JSON is surely at most
  // eventBytes / 3 characters long is not measured; any other is, exactly.
  let bound = 160 + jsonBound(source as string);
  if (action !== undefined) {
    const { reason, actor, aggregate } = action as { reason: string; actor: Identity; aggregate: Identity };
    bound += jsonBound(reason) + identityBound(actor) + identityBound(aggregate) + (patch as string).length;
    if (triggers !== undefined) for (const t of triggers as Identity[]) bound += 1 + identityBound(t);
  } else {
    const { reason, trigger } = effect as { reason: string; trigger: Identity };
    bound += jsonBound(reason) + identityBound(trigger);
  }
  if (bound > limits.eventBytes / 3) {
    const json = JSON.stringify(value);
    if (json.length > limits.eventBytes / 3 && Buffer.byteLength(json, "utf8") > limits.eventBytes) {
      throw new ValidationError(
        "too-large",
        path,
        `an event may take at most ${limits.eventBytes} bytes of JSON (limits.eventBytes), got ${Buffer.byteLength(json, "utf8")}`,
      );
    }
  }
  return patch;
}

/**
 * How much deeper than `limits.depth` the copy of an argument may go: room for
 * the levels above a patch value, so that `checkJson` reports too-deep values
 * with their exact path, while absurd nesting stops before the stack overflows.
 */
const SNAPSHOT_DEPTH_MARGIN = 64;

/** The validated arguments of `rebase`: plain copies (see {@link snapshot}), and each action's patch as JSON. */
export interface CheckedRebaseArgs {
  readonly history: NewEvent[];
  /** The JSON text of each event's patch (undefined for an effect), as {@link checkNewEvent} measured it. */
  readonly patches: (string | undefined)[];
  readonly options: RebaseOptions | undefined;
}

/**
 * Validates every argument of `rebase` (SPEC section 2, rule 0) and returns the
 * plain copies of `history` and `options` that the write must use (see {@link snapshot}).
 */
export function checkRebaseArgs(
  base: unknown,
  given: unknown,
  givenOptions: unknown,
  limits: Limits,
): CheckedRebaseArgs {
  checkPositive(base, "base");
  const history = snapshot(given, "history", limits.depth + SNAPSHOT_DEPTH_MARGIN, {
    maxLength: { max: limits.historyLength, limitName: "historyLength" },
    depthLimit: `patch values may be nested at most ${limits.depth} levels (limits.depth)`,
    maxValues: eventValues(limits.eventBytes, true),
    stored: true,
  });
  const options = snapshot(givenOptions, "options", limits.depth + SNAPSHOT_DEPTH_MARGIN);
  checkList(history, "history", limits.historyLength, "historyLength");
  const patches = new Array<string | undefined>(history.length);
  for (let i = 0; i < history.length; i++) patches[i] = checkNewEvent(history[i], `history[${i}]`, limits);
  const checked = { history: history as NewEvent[], patches, options: options as RebaseOptions | undefined };
  if (options === undefined) return checked;
  checkObject(options, "options", ["resolved", "dry", "id"]);
  const { resolved, dry, id } = options as RebaseOptions;
  if (id !== undefined) checkKind(id, "options.id");
  if (dry !== undefined && typeof dry !== "boolean") {
    throw new ValidationError("invalid-type", "options.dry", `expected a boolean, got ${describe(dry)}`);
  }
  if (resolved !== undefined) {
    if (!Array.isArray(resolved)) {
      throw new ValidationError("invalid-type", "options.resolved", `expected an array, got ${describe(resolved)}`);
    }
    if (resolved.length > limits.resolvedLength) {
      throw new ValidationError(
        "too-many",
        "options.resolved",
        `at most ${limits.resolvedLength} entries (limits.resolvedLength), got ${resolved.length}`,
      );
    }
    const seen = new Set<number>();
    resolved.forEach((seqNo, i) => {
      checkPositive(seqNo, `options.resolved[${i}]`);
      if (seen.has(seqNo)) throw new ValidationError("not-distinct", `options.resolved[${i}]`, "appears twice");
      seen.add(seqNo);
    });
  }
  return checked;
}

/** Validates the options of `stream` and `follow`; returns the plain copy to use (see {@link snapshot}). */
export function checkStreamOptions(given: unknown, extraKeys: readonly string[] = []): StreamOptions {
  if (given === undefined) return {};
  const options = snapshot(given, "options", DEFAULT_SNAPSHOT_DEPTH);
  checkObject(options, "options", ["offset", "aggregates", "kinds", ...extraKeys]);
  const { offset, aggregates, kinds } = options as StreamOptions;
  if (offset !== undefined && offset !== 0) checkPositive(offset, "options.offset", "0 or a positive safe integer");
  if (aggregates !== undefined) {
    checkList(aggregates, "options.aggregates", Number.MAX_SAFE_INTEGER);
    for (const [i, a] of aggregates.entries()) checkIdentity(a, `options.aggregates[${i}]`);
  }
  if (kinds !== undefined) {
    checkList(kinds, "options.kinds", Number.MAX_SAFE_INTEGER);
    for (const [i, k] of kinds.entries()) checkKind(k, `options.kinds[${i}]`);
  }
  return options as StreamOptions;
}

/**
 * The deepest `limits.depth` a store takes: values are copied, checked and
 * folded by recursion, and 5,000 levels overflowed the stack where 3,000 did
 * not (Node.js 20, main thread).
 */
export const MAX_DEPTH = 1000;

/** Validates `limits` of `openStore` and fills in the defaults. */
export function resolveLimits(value: unknown, defaults: Limits): Limits {
  if (value === undefined) return defaults;
  checkObject(value, "options.limits", ["eventBytes", "depth", "historyLength", "resolvedLength"]);
  const out: Record<string, number> = { ...defaults };
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    checkPositive(v, `options.limits.${key}`);
    if (key === "depth" && v > MAX_DEPTH) {
      throw new ValidationError("too-large", "options.limits.depth", `at most ${MAX_DEPTH}, got ${v}`);
    }
    out[key] = v;
  }
  return out as unknown as Limits;
}
