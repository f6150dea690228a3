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
