import type { Backend } from "../backend.js";
import { EventStore } from "../event-store.js";
import { ValidationError } from "../model/errors.js";
import type { Identity } from "../model/types.js";
import {
  checkIdentity,
  checkKind,
  checkList,
  checkObject,
  checkPositive,
  readArgument,
  readShallow,
} from "../model/validate.js";
import { describe, fieldPath } from "../model/validate-json.js";
import type { Store } from "../store.js";
import type { BatchProjection, Projection, ProjectionBase, RunProjectionOptions } from "./projection.js";

/** A projection as the runner uses it: checked, its members read once, and one of `apply` and `applyBatch`. */
export interface CheckedProjection extends ProjectionBase {
  readonly apply?: Projection["apply"];
  readonly applyBatch?: BatchProjection["applyBatch"];
}

/** The backend of a store made by `openStore`: projections keep their checkpoints beside its events. */
export function backendOf(store: Store): Backend {
  if (!(store instanceof EventStore)) {
    throw new ValidationError("invalid-type", "store", `expected a store made by openStore, got ${describe(store)}`);
  }
  // Every projection call on a closed store rejects as the store's own calls do.
  store.assertOpen();
  return store.backend;
}

function checkFunction(value: unknown, path: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== "function") {
    throw new ValidationError("invalid-type", path, `expected a function, got ${describe(value)}`);
  }
}

/**
 * The optional members whose misspelling would pass unnoticed: a filter that filters nothing, a reset never called.
 * `near`: the edit distance (a transposition counts one) within which a name is taken for a typo of it.
 */
const OPTIONAL_MEMBERS = [
  {
    name: "kinds",
    near: 1,
    shape: (v: unknown) => typeof v === "string" || (Array.isArray(v) && v.every((k) => typeof k === "string")),
  },
  { name: "aggregates", near: 2, shape: (v: unknown) => Array.isArray(v) && v.every(Array.isArray) },
  { name: "reset", near: 1, shape: (v: unknown) => typeof v === "function" },
  { name: "clear", near: 1, shape: (v: unknown) => typeof v === "function" },
] as const;

/** Optimal string alignment distance between `a` and `b`, or `limit + 1` once it is known to exceed `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((d[i - 1] as number[])[j] as number, row[j - 1] as number) + 1;
      best = Math.min(best, ((d[i - 1] as number[])[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The projection's own enumerable names, and its class's methods (up to `Object.prototype`), each with the object holding it. */
function* memberNames(value: object): Generator<[string, object]> {
  for (const key of Object.keys(value)) yield [key, value];
  for (
    let proto = Object.getPrototypeOf(value);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) if (key !== "constructor") yield [key, proto];
  }
}

/**
 * A projection may carry members of its own, but one that is shaped like an
 * optional member and named almost like it (`kind: ["book"]`) is a typo that
 * would silently follow every aggregate: it is refused, naming the member meant.
 * Only data properties are read: a getter of the projection's own is not run.
 */
function checkNearMisses(value: object): void {
  for (const [key, owner] of memberNames(value)) {
    const near = OPTIONAL_MEMBERS.find(
      ({ name, near }) => key !== name && distance(key.toLowerCase(), name, near) <= near,
    );
    if (near === undefined) continue;
    const descriptor = Object.getOwnPropertyDescriptor(owner, key);
    if (descriptor === undefined || !("value" in descriptor) || !near.shape(descriptor.value)) continue;
    throw new ValidationError(
      "unknown-key",
      fieldPath("projection", key),
      `a projection has no ${JSON.stringify(key)}: did you mean ${near.name}?`,
    );
  }
}

/** `value[key]`, read once; a getter or Proxy that throws is a ValidationError naming the member. */
function member(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch (error) {
    throw new ValidationError("unreadable", `projection.${key}`, `reading the value threw: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * Checks that `value` is a {@link Projection} or a {@link BatchProjection}
 * (one of `apply` and `applyBatch`, not both) and returns what the runner
 * uses: each member read once (its lists copied), and its methods called on
 * `value` itself. A getter that answers differently on each read can then
 * neither get past the checks nor name another checkpoint later.
 */
export function checkProjection(value: unknown): CheckedProjection {
  // Not checkObject: a projection may well be a class instance with members of its own.
  if (typeof value !== "object" || value === null) {
    throw new ValidationError("invalid-type", "projection", `expected an object, got ${describe(value)}`);
  }
  const name = member(value, "name");
  checkKind(name, "projection.name");
  const apply = member(value, "apply");
  const applyBatch = member(value, "applyBatch");
  const reset = member(value, "reset");
  const clear = member(value, "clear");
  if (applyBatch === undefined) {
    if (apply === undefined) {
      throw new ValidationError(
        "invalid-type",
        "projection.apply",
        "a projection has apply(event, ctx), or applyBatch(events, ctx) in its place: got neither",
      );
    }
    checkFunction(apply, "projection.apply", true);
  } else {
    checkFunction(applyBatch, "projection.applyBatch", true);
    if (apply !== undefined) {
      throw new ValidationError(
        "invalid-type",
        "projection.apply",
        "a projection has apply (one action at a time) or applyBatch (a batch at once), not both",
      );
    }
  }
  checkFunction(reset, "projection.reset", false);
  checkFunction(clear, "projection.clear", false);
  const aggregates = readArgument(member(value, "aggregates"), "projection.aggregates");
  const kinds = readArgument(member(value, "kinds"), "projection.kinds");
  if (aggregates !== undefined) {
    checkList(aggregates, "projection.aggregates", Number.MAX_SAFE_INTEGER);
    for (const [i, a] of aggregates.entries()) checkIdentity(a, `projection.aggregates[${i}]`);
  }
  if (kinds !== undefined) {
    checkList(kinds, "projection.kinds", Number.MAX_SAFE_INTEGER);
    for (const [i, k] of kinds.entries()) checkKind(k, `projection.kinds[${i}]`);
  }
  checkNearMisses(value);
  type Method = (...args: unknown[]) => void | Promise<void>;
  const on = (method: unknown) =>
    method === undefined ? undefined : (...args: unknown[]) => Reflect.apply(method as Method, value, args);
  return {
    name,
    ...(aggregates === undefined ? {} : { aggregates: aggregates as Identity[] }),
    ...(kinds === undefined ? {} : { kinds: kinds as string[] }),
    ...(apply === undefined ? {} : { apply: on(apply) as Projection["apply"] }),
    ...(applyBatch === undefined ? {} : { applyBatch: on(applyBatch) as BatchProjection["applyBatch"] }),
    ...(reset === undefined ? {} : { reset: on(reset) as Projection["reset"] }),
    ...(clear === undefined ? {} : { clear: on(clear) as Projection["clear"] }),
  };
}

/** Throws unless `value` is a {@link RunProjectionOptions}; returns the copy to use (each option read once). */
export function checkRunOptions(given: unknown): RunProjectionOptions {
  if (given === undefined) return {};
  const value = readShallow(given, "options");
  checkObject(value, "options", ["signal", "onCaughtUp", "batchSize"]);
  if (value.signal !== undefined && !(value.signal instanceof AbortSignal)) {
    throw new ValidationError(
      "invalid-type",
      "options.signal",
      `expected an AbortSignal, got ${describe(value.signal)}`,
    );
  }
  checkFunction(value.onCaughtUp, "options.onCaughtUp", false);
  if (value.batchSize !== undefined) checkPositive(value.batchSize, "options.batchSize");
  return value as RunProjectionOptions;
}
