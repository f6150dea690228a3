import fc from "fast-check";
import type { Identity, NewEvent } from "../../src/index.js";
import { act, eff } from "./events.js";

/** One event of a random history: an action on one of `aggregates` carrying some of `keys`, or an effect on a key. */
export type RandomEvent = { effect: Identity } | { aggregate: Identity; triggers: Identity[]; n: number };

/** Random events over a few aggregates and keys: four actions for each effect. */
export function randomEvent(aggregates: readonly Identity[], keys: readonly Identity[]): fc.Arbitrary<RandomEvent> {
  return fc.oneof(
    {
      arbitrary: fc.record({
        aggregate: fc.constantFrom(...aggregates),
        triggers: fc.subarray([...keys], { maxLength: 2 }),
        n: fc.integer({ min: 0, max: 99 }),
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ effect: fc.constantFrom(...keys) }), weight: 1 },
  );
}

/** The event a {@link RandomEvent} stands for. */
export function toEvent(e: RandomEvent): NewEvent {
  if ("effect" in e) return eff(e.effect);
  return act(e.aggregate, { assoc: { n: e.n } }, e.triggers.length > 0 ? { triggers: e.triggers } : {});
}
