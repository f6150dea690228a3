import type { Backend } from "../backend.js";
import type { StoredAction } from "../model/types.js";
import { checkFollowOptions } from "./follow-options.js";
import { followSteps } from "./follow-steps.js";

/**
 * The actions of `store.follow`, with the options validated on the first
 * iteration like `stream`'s. Its `return()` (a `Readable.from` destroyed, an
 * iterator given up) ends a follower that is waiting for commits at once, as
 * its signal would: an async generator's own `return()` waits for the
 * pending `next()`, which waits for the next commit.
 */
export function follow(
  backend: Backend,
  options: unknown,
  pageSize: number,
  checkOpen: () => void,
): AsyncIterator<StoredAction> {
  const stop = new AbortController();
  const actions = followActions(backend, options, pageSize, checkOpen, stop.signal);
  return {
    next: () => actions.next(),
    return: (value?: unknown) => {
      stop.abort();
      return actions.return(value);
    },
    throw: (error?: unknown) => {
      stop.abort();
      return actions.throw(error);
    },
  };
}

async function* followActions(
  backend: Backend,
  options: unknown,
  pageSize: number,
  checkOpen: () => void,
  stopped: AbortSignal,
): AsyncGenerator<StoredAction> {
  checkOpen();
  const checked = checkFollowOptions(options);
  const signal = checked.signal === undefined ? stopped : AbortSignal.any([checked.signal, stopped]);
  for await (const step of followSteps(backend, { ...checked, signal }, pageSize, checkOpen)) {
    if (step.type === "action") yield step.event;
    else if (step.type === "caught-up") checked.onCaughtUp?.(step.head);
  }
}
