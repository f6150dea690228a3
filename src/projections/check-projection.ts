import type { Backend } from "../backend.js";
import { EventStore } from "../event-store.js";
import { ValidationError } from "../model/errors.js";
import { checkIdentity, checkKind, checkList, checkObject, checkPositive } from "../model/validate.js";
import { describe } from "../model/validate-json.js";
import type { Store } from "../store.js";
import type { Projection, RunProjectionOptions } from "./projection.js";

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

/** The optional members whose misspelling would pass unnoticed: a filter that filters nothing, a reset never called. */
const OPTIONAL_MEMBERS = [
  { name: "kinds", shape: (v: unknown) => Array.isArray(v) || typeof v === "string" },
  { name: "aggregates", shape: Array.isArray },
  { name: "reset", shape: (v: unknown) => typeof v === "function" },
  { name: "clear", shape: (v: unknown) => typeof v === "function" },
] as const;

/** Levenshtein distance between `a` and `b`, or `limit + 1` once it is known to exceed `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * A projection may carry members of its own, but one that is shaped like an
 * optional member and named almost like it (`kind: ["book"]`) is a typo that
 * would silently follow every aggregate: it is refused, naming the member meant.
 */
function checkNearMisses(value: object): void {
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    for (const { name, shape } of OPTIONAL_MEMBERS) {
      if (key === name || !shape(member) || distance(key.toLowerCase(), name, 2) > 2) continue;
      throw new ValidationError(
        "unknown-key",
        `projection.${key}`,
        `a projection has no ${key}: did you mean ${name}?`,
      );
    }
  }
}

/** Throws unless `value` is a {@link Projection}. */
export function checkProjection(value: unknown): asserts value is Projection {
  // Not checkObject: a projection may well be a class instance with members of its own.
  if (typeof value !== "object" || value === null) {
    throw new ValidationError("invalid-type", "projection", `expected an object, got ${describe(value)}`);
  }
  const { name, apply, reset, clear, aggregates, kinds } = value as Record<string, unknown>;
  checkKind(name, "projection.name");
  checkFunction(apply, "projection.apply", true);
  checkFunction(reset, "projection.reset", false);
  checkFunction(clear, "projection.clear", false);
  if (aggregates !== undefined) {
    checkList(aggregates, "projection.aggregates", Number.MAX_SAFE_INTEGER);
    for (const [i, a] of aggregates.entries()) checkIdentity(a, `projection.aggregates[${i}]`);
  }
  if (kinds !== undefined) {
    checkList(kinds, "projection.kinds", Number.MAX_SAFE_INTEGER);
    for (const [i, k] of kinds.entries()) checkKind(k, `projection.kinds[${i}]`);
  }
  checkNearMisses(value);
}

/** Throws unless `value` is a {@link RunProjectionOptions}. */
export function checkRunOptions(value: unknown): RunProjectionOptions {
  if (value === undefined) return {};
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
