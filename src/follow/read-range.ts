import type { ActionFilter, Backend, HeadAndEffects } from "../backend.js";
import type { StoredAction } from "../model/types.js";
import { pageLimit, readAhead } from "../read-ahead.js";

/** An action as a follower delivers it: new, or replayed because an effect since the last batch named its aggregate. */
export interface RangeItem {
  readonly event: StoredAction;
  readonly replay: boolean;
}

/**
 * What `stream({ offset })` yields over a store whose head is `head`: the
 * replayed actions (seqNo < offset) then the actions `offset..head`, page by
 * page, so memory stays bounded by `pageSize` whatever the range. `effects`:
 * whether an effect has `offset <= seqNo <= head` (read with the head).
 */
export async function* readRange(
  backend: Backend,
  filter: ActionFilter,
  offset: number,
  { head, effects }: HeadAndEffects,
  pageSize: number,
  checkOpen: () => void,
): AsyncGenerator<RangeItem> {
  const limit = pageLimit(backend, pageSize);
  if (offset > 1 && effects) {
    const read = (after: number) => backend.replayPage({ ...filter, offset, head, after, limit });
    for await (const page of readAhead(read, 0, checkOpen, backend.readsAhead === true)) {
      for (const event of page.actions) yield { event, replay: true };
    }
  }
  if (offset - 1 >= head) return;
  const read = (after: number) => backend.actionPage({ ...filter, after, until: head, limit });
  for await (const page of readAhead(read, offset - 1, checkOpen, backend.readsAhead === true)) {
    for (const event of page.actions) yield { event, replay: false };
  }
}
