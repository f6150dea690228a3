import { describe, expect, it } from "vitest";
import { applyPatch, type Identity, type Json, type NewEvent, type Patch, type Store } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, eff } from "../support/events.js";

const X: Identity = ["book", 1];

async function write(store: Store, history: NewEvent[]): Promise<void> {
  const r = await store.rebase((await store.currentSeqNo()) + 1, history);
  expect(r.result).toBe("ok");
}

/** SPEC section 3: `store.aggregate(identity)`. */
export function testAggregate(factory: StoreFactory): void {
  describe("aggregate: undefined when the aggregate has no action", () => {
    it("on an empty store, for an unknown aggregate, for an id of the other type, for a trigger", async () => {
      const store = await factory.create();
      expect(await store.aggregate(X)).toBeUndefined();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] }), eff(["key", 1])]);
      expect(await store.aggregate(["book", "1"])).toBeUndefined();
      expect(await store.aggregate(["book", 2])).toBeUndefined();
      expect(await store.aggregate(["key", 1])).toBeUndefined();
    });
  });

  describe("aggregate: the fold of applyPatch over its actions from {}, and the seqNo of its last action", () => {
    it("folds object and pair patches, paths and dissocs, in seqNo order, ignoring other aggregates and effects", async () => {
      const store = await factory.create();
      const patches: Patch[] = [
        { assoc: { title: "Neuromancer", meta: { year: 1984 }, tags: ["a"] } },
        {
          assoc: [
            [["meta", "pages"], 271],
            ["title", "Neuromancer!"],
          ],
        },
        { dissoc: [["meta", "year"], "tags"] },
        { assoc: { tags: null }, dissoc: ["missing", ["meta", "nothing", "here"]] },
      ];
      await write(store, [act(X, patches[0]), act(["book", "1"], { assoc: { other: true } })]);
      await write(store, [act(X, patches[1]), eff(["key", 1])]);
      await write(store, [act(X, patches[2]), act(X, patches[3]), act(["book", 2])]);
      const expected = patches.reduce<{ [key: string]: Json }>((s, p) => applyPatch(s, p), {});
      expect(expected).toEqual({ title: "Neuromancer!", meta: { pages: 271 }, tags: null });
      expect(await store.aggregate(X)).toStrictEqual({ state: expected, seqNo: 6 });
      expect(await store.aggregate(["book", "1"])).toStrictEqual({ state: { other: true }, seqNo: 2 });
    });

    it("a dissoc of every key leaves {} and the aggregate still exists", async () => {
      const store = await factory.create();
      await write(store, [act(X, { assoc: { a: 1 } }), act(X, { dissoc: ["a"] })]);
      expect(await store.aggregate(X)).toStrictEqual({ state: {}, seqNo: 2 });
    });

    it("an aggregate of 4,500 actions between others' is folded across pages, all of them, in order", async () => {
      const store = await factory.create();
      const history: NewEvent[] = [];
      for (let i = 0; i < 4500; i++) {
        history.push(act(X, { assoc: { n: i, [`k${i % 7}`]: i } }));
        if (i % 3 === 0) history.push(act(["book", 2], { assoc: { n: i } }));
      }
      await write(store, history);
      const expected = history
        .filter((e) => "action" in e && e.action.aggregate[1] === 1)
        .reduce<{ [key: string]: Json }>((s, e) => ("action" in e ? applyPatch(s, e.action.patch) : s), {});
      expect(expected.n).toBe(4499);
      expect(await store.aggregate(X)).toStrictEqual({ state: expected, seqNo: history.length });
    });

    it("an aggregate of several pages read while others append to it is the state as of one seqNo", async () => {
      const store = await factory.create();
      const history = Array.from({ length: 4500 }, (_, i) => act(X, { assoc: { n: i, [`k${i % 5}`]: i } }));
      await write(store, history);
      const reading = store.aggregate(X);
      // Appended while the pages are read: each of its own, on the head.
      for (let i = 4500; i < 4520; i++) await write(store, [act(X, { assoc: { n: i, [`k${i % 5}`]: i } })]);
      const read = await reading;
      expect(read).toBeDefined();
      const seqNo = read?.seqNo ?? 0;
      expect(seqNo).toBeGreaterThanOrEqual(4500);
      let expected: { [key: string]: Json } = {};
      for (let i = 0; i < seqNo; i++) expected = applyPatch(expected, { assoc: { n: i, [`k${i % 5}`]: i } });
      expect(read?.state).toStrictEqual(expected);
    });

    it("an aggregate replayed by an effect keeps its state", async () => {
      const store = await factory.create();
      await write(store, [act(X, { assoc: { a: 1 } }, { triggers: [["key", 1]] }), eff(["key", 1])]);
      expect(await store.aggregate(X)).toStrictEqual({ state: { a: 1 }, seqNo: 1 });
    });
  });
}
