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
  const actions = followActions(backend, options, pageSize, checkOpen, stop);
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
  stopper: AbortController,
): AsyncGenerator<StoredAction> {
  const stopped = stopper.signal;
  checkOpen();
  const checked = checkFollowOptions(options);
  // The caller's signal stops it too, through a listener removed at the end: a signal combined with
  // AbortSignal.any would keep memory in a long-lived caller's signal for every follower (Node 20).
  const caller = checked.signal;
  const stop = () => stopper.abort();
  if (caller?.aborted) stopper.abort();
  else caller?.addEventListener("abort", stop, { once: true });
  try {
    for await (const step of followSteps(backend, { ...checked, signal: stopped }, pageSize, checkOpen)) {
      if (step.type === "action") yield step.event;
      else if (step.type === "caught-up") checked.onCaughtUp?.(step.head);
    }
  } finally {
    caller?.removeEventListener("abort", stop);
  }
}
