import { ValidationError } from "../model/errors.js";
import type { StreamOptions } from "../model/types.js";
import { checkStreamOptions } from "../model/validate.js";
import { describe } from "../model/validate-json.js";

/**
 * Options of `store.follow`: those of `stream`, and how to stop and learn
 * that the follower has caught up.
 *
 * @example
 * const controller = new AbortController();
 * const options: FollowOptions = {
 *   offset: 1,
 *   kinds: ["book"],
 *   signal: controller.signal,
 *   onCaughtUp: (head) => console.log(`up to date at ${head}`),
 * };
 */
export interface FollowOptions extends StreamOptions {
  /** Ends the iteration (without error) when it aborts. */
  readonly signal?: AbortSignal;
  /**
   * Called each time everything committed so far has been delivered, with the
   * store's head then (`currentSeqNo()`, effects included). The consumer has
   * finished with every delivered action when it is called. A promise it
   * returns is awaited: its rejection ends the iteration with that error.
   */
  readonly onCaughtUp?: (head: number) => unknown;
}

/** Validates the options of `follow`. */
export function checkFollowOptions(options: unknown): FollowOptions {
  const checked = checkStreamOptions(options, ["signal", "onCaughtUp"]) as FollowOptions;
  const { signal, onCaughtUp } = checked;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError("invalid-type", "options.signal", `expected an AbortSignal, got ${describe(signal)}`);
  }
  if (onCaughtUp !== undefined && typeof onCaughtUp !== "function") {
    throw new ValidationError("invalid-type", "options.onCaughtUp", `expected a function, got ${describe(onCaughtUp)}`);
  }
  return checked;
}
