import { expect } from "vitest";
import type { NewEvent, Store, StoredAction, StoredEvent } from "../../src/index.js";
import { collect } from "./events.js";

/** What a reader can see of a store: its head and every action in order. */
export interface StoreState {
  readonly head: number;
  readonly actions: StoredAction[];
}

/** Reads the head and the whole stream. */
export async function stateOf(store: Store): Promise<StoreState> {
  return { head: await store.currentSeqNo(), actions: await collect(store.stream({ offset: 0 })) };
}

/** Asserts that nothing was written since `before` was taken. */
export async function expectUnchanged(store: Store, before: StoreState): Promise<void> {
  expect(await stateOf(store)).toStrictEqual(before);
}

/**
 * The stored form of a new event: the same fields, with the seqNo, and without
 * optional keys whose value is `undefined` (they count as absent).
 */
export function stored(event: NewEvent, seqNo: number): StoredEvent {
  const out: Record<string, unknown> = { seqNo };
  for (const [key, value] of Object.entries(event)) if (value !== undefined) out[key] = value;
  return out as unknown as StoredEvent;
}

/** The stored forms of a history numbered from `first`. */
export function numbered(history: readonly NewEvent[], first: number): StoredEvent[] {
  return history.map((e, i) => stored(e, first + i));
}

/** The seqNos of a list of events. */
export function seqNos(events: readonly { seqNo: number }[]): number[] {
  return events.map((e) => e.seqNo);
}
