import type { Backend } from "../backend.js";
import type { StoredAction } from "../model/types.js";
import { checkFollowOptions } from "./follow-options.js";
import { followSteps, settled } from "./follow-steps.js";

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
  const stopper = new AbortController();
  const actions = followActions(backend, options, pageSize, checkOpen, stopper);
  return {
    next: () => actions.next(),
    return: (value?: unknown) => {
      stopper.abort();
      return actions.return(value);
    },
    throw: (error?: unknown) => {
      stopper.abort();
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
  checkOpen();
  const checked = checkFollowOptions(options);
  // The caller's signal stops it too, through a listener removed at the end: a signal combined with
  // AbortSignal.any would keep memory in a long-lived caller's signal for every follower (Node 20).
  const caller = checked.signal;
  const forward = () => stopper.abort();
  if (caller?.aborted) stopper.abort();
  else caller?.addEventListener("abort", forward, { once: true });
  try {
    for await (const step of followSteps(backend, { ...checked, signal: stopper.signal }, pageSize, checkOpen)) {
      if (step.type === "action") yield step.event;
      else if (step.type === "caught-up") await settled(checked.onCaughtUp?.(step.head), stopper.signal);
    }
  } finally {
    caller?.removeEventListener("abort", forward);
  }
}
