import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { Backend } from "../../src/backend.js";
import { EventStore } from "../../src/event-store.js";
import type { Identity, NewEvent, Store, StreamOptions } from "../../src/index.js";
import { storesNamed } from "../stores.js";
import { collect } from "../support/events.js";
import { randomEvent, toEvent } from "../support/random-history.js";

/** Rows a page of the small-page view reads: every read of these stores spans several pages. */
const PAGE = 3;

/**
 * A view of `store` whose reads go in pages of {@link PAGE} rows, read ahead:
 * its backend, with `readsAhead` and `aheadPageSize` changed (methods bound to
 * the backend itself, whose private fields a proxy could not reach).
 */
function smallPages(store: Store): Store {
  const { backend, limits } = store as unknown as EventStore;
  const view = new Proxy(backend, {
    get(target, key) {
      if (key === "readsAhead") return true;
      if (key === "aheadPageSize") return PAGE;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Backend;
  return new EventStore(view, limits);
}

const AGGREGATES: Identity[] = [
  ["item", 1],
  ["item", 2],
  ["book", 1],
];
const KEYS: Identity[] = [
  ["key", 1],
  ["key", 2],
  ["key", 3],
];

const event = randomEvent(AGGREGATES, KEYS);

/** A history cut into rebases (each on the head), offsets and filters to stream it with. */
const scenario = fc.record({
  events: fc.array(event, { minLength: 1, maxLength: 30 }),
  cuts: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 6 }),
  reads: fc.array(
    fc.record({
      offset: fc.integer({ min: 0, max: 33 }),
      aggregates: fc.option(fc.subarray(AGGREGATES, { minLength: 1 }), { nil: undefined }),
      kinds: fc.option(fc.subarray(["item", "book"], { minLength: 1 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

for (const factory of storesNamed("memory", "sqlite", "postgres", "mysql")) {
  describe(`${factory.name}: streams and followers read in pages of ${PAGE}`, () => {
    afterAll(() => factory.dispose());

    it("yield what a read in one page yields, for every offset and filter (SPEC section 3)", async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ events, cuts, reads }) => {
          const store = await factory.create();
          const history: NewEvent[] = events.map(toEvent);
          for (let at = 0, i = 0; at < history.length; i++) {
            const size = cuts[i % cuts.length] as number;
            const r = await store.rebase((await store.currentSeqNo()) + 1, history.slice(at, at + size));
            expect(r.result).toBe("ok");
            at += size;
          }
          const small = smallPages(store);
          for (const { offset, aggregates, kinds } of reads) {
            const options: StreamOptions = { offset, aggregates, kinds };
            const whole = await collect(store.stream(options));
            expect(await collect(small.stream(options))).toStrictEqual(whole);
            // A follower of the same store delivers the same first batch, then reports the head.
            const controller = new AbortController();
            const head = await store.currentSeqNo();
            const followed = [];
            for await (const a of small.follow({
              ...options,
              signal: controller.signal,
              onCaughtUp: (h) => {
                if (h >= head) controller.abort();
              },
            })) {
              followed.push(a);
            }
            expect(followed).toStrictEqual(whole);
          }
        }),
        { numRuns: factory.name === "memory" || factory.name === "sqlite" ? 60 : 25 },
      );
    }, 180_000);
  });
}
