import type { Backend } from "../backend.js";
import type { StoredAction } from "../model/types.js";
import { checkFollowOptions } from "./follow-options.js";
import { followSteps } from "./follow-steps.js";

/** The actions of `store.follow`, with the options validated on the first iteration like `stream`'s. */
export async function* follow(
  backend: Backend,
  options: unknown,
  pageSize: number,
  checkOpen: () => void,
): AsyncGenerator<StoredAction> {
  checkOpen();
  const checked = checkFollowOptions(options);
  for await (const step of followSteps(backend, checked, pageSize, checkOpen)) {
    if (step.type === "action") yield step.event;
    else if (step.type === "caught-up") checked.onCaughtUp?.(step.head);
  }
}
