import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type Identity, rebuildProjection } from "../../src/index.js";
import { storesNamed } from "../stores.js";
import { randomEvent, toEvent } from "../support/random-history.js";
import {
  catchUp,
  expectedStates,
  foldBatchProjection,
  foldProjection,
  reader,
  readModel,
} from "../support/read-model.js";

const AGGREGATES: Identity[] = [
  ["item", 1],
  ["item", 2],
  ["item", 3],
  ["book", 1],
];
const KEYS: Identity[] = [
  ["key", 1],
  ["key", 2],
];

const event = randomEvent(AGGREGATES, KEYS);

/** A history cut into rebases, where the runners catch up in between, and the batch size they run with. */
const scenario = fc.record({
  events: fc.array(event, { minLength: 1, maxLength: 30 }),
  cuts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 5 }),
  pauses: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  batchSize: fc.integer({ min: 1, max: 6 }),
  kinds: fc.option(fc.constant(["item"]), { nil: undefined }),
});

for (const factory of storesNamed("memory", "sqlite", "postgres", "mysql")) {
  describe(`${factory.name}: a projection applying batches`, () => {
    afterAll(() => factory.dispose());

    it("ends with what one applying each action ends with, replays and resets included, each call all replays or none", async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ events, cuts, pauses, batchSize, kinds }) => {
          const store = await factory.create();
          const one = { ...foldProjection("one", "rm_one"), ...(kinds ? { kinds } : {}) };
          const many = { ...foldBatchProjection("many", "rm_many"), ...(kinds ? { kinds } : {}) };
          await rebuildProjection(store, one);
          await rebuildProjection(store, many);
          const history = events.map(toEvent);
          for (let at = 0, i = 0; at < history.length; i++) {
            const size = cuts[i % cuts.length] as number;
            const r = await store.rebase((await store.currentSeqNo()) + 1, history.slice(at, at + size));
            expect(r.result).toBe("ok");
            at += size;
            // Runners that catch up between commits see the effects replay what they applied before.
            if (pauses[i % pauses.length] || at >= history.length) {
              await catchUp(store, one, batchSize);
              await catchUp(store, many, batchSize);
            }
          }
          const a = await readModel(reader(store), one.memory, "rm_one");
          const b = await readModel(reader(store), many.memory, "rm_many");
          expect(b).toEqual(a);
          const expected = await expectedStates(store);
          const followed = kinds
            ? Object.fromEntries(Object.entries(expected).filter(([key]) => key.startsWith('["item"')))
            : expected;
          expect(b.states).toEqual(followed);
          for (const call of many.calls) {
            expect(call.seqNos.length).toBeGreaterThan(0);
            expect(call.seqNos.length).toBeLessThanOrEqual(batchSize);
          }
        }),
        { numRuns: factory.name === "memory" || factory.name === "sqlite" ? 60 : 20 },
      );
    }, 240_000);
  });
}
