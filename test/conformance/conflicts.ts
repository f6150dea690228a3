import { describe, expect, it } from "vitest";
import type { Identity, NewEvent, Store } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, eff } from "../support/events.js";
import { numbered, seqNos } from "../support/store-state.js";

const X: Identity = ["book", 1];
const Y: Identity = ["book", "1"];

async function write(store: Store, history: NewEvent[]): Promise<void> {
  const r = await store.rebase((await store.currentSeqNo()) + 1, history);
  expect(r.result).toBe("ok");
}

/**
 * 1 X [k1]   2 Y [k2]   3 effect k1   4 X [k1, k3]   5 effect k2   6 effect k3   7 Y   8 effect k9
 */
const HISTORY: NewEvent[] = [
  act(X, undefined, { triggers: [["key", 1]] }),
  act(Y, undefined, { triggers: [["key", 2]] }),
  eff(["key", 1]),
  act(
    X,
    { assoc: { n: 2 } },
    {
      triggers: [
        ["key", 1],
        ["key", 3],
      ],
    },
  ),
  eff(["key", 2]),
  eff(["key", 3]),
  act(Y),
  eff(["key", 9]),
];

/** SPEC section 3: `store.conflicts(offset, aggregate)`. */
export function testConflicts(factory: StoreFactory): void {
  describe("conflicts: every stored event that would conflict with an action on the aggregate rebased on offset", () => {
    it("actions on the aggregate and effects on triggers of any of its actions, from offset on, ascending, whole", async () => {
      const store = await factory.create();
      await write(store, HISTORY);
      const all = numbered(HISTORY, 1);
      const pick = (...s: number[]) => s.map((n) => all[n - 1]);
      expect(await store.conflicts(1, X)).toStrictEqual(pick(1, 3, 4, 6));
      expect(await store.conflicts(2, X)).toStrictEqual(pick(3, 4, 6));
      expect(await store.conflicts(4, X)).toStrictEqual(pick(4, 6));
      expect(await store.conflicts(5, X)).toStrictEqual(pick(6));
      expect(await store.conflicts(7, X)).toStrictEqual([]);
      expect(await store.conflicts(1, Y)).toStrictEqual(pick(2, 5, 7));
      expect(await store.conflicts(6, Y)).toStrictEqual(pick(7));
      expect(await store.conflicts(100, Y)).toStrictEqual([]);
    });

    it("an aggregate without actions has no conflicts, even with effects on keys of the same name", async () => {
      const store = await factory.create();
      await write(store, HISTORY);
      expect(await store.conflicts(1, ["key", 1])).toEqual([]);
      expect(await store.conflicts(1, ["book", 2])).toEqual([]);
      const empty = await factory.create();
      expect(await empty.conflicts(1, X)).toEqual([]);
    });

    it("an effect matching two actions of the aggregate comes once", async () => {
      const store = await factory.create();
      await write(store, [
        act(X, undefined, { triggers: [["key", 1]] }),
        act(X, undefined, { triggers: [["key", 1]] }),
      ]);
      await write(store, [eff(["key", 1])]);
      expect(seqNos(await store.conflicts(1, X))).toEqual([1, 2, 3]);
    });

    it("its first entry is the conflict rebase reports, for every offset", async () => {
      const store = await factory.create();
      await write(store, HISTORY);
      for (const aggregate of [X, Y]) {
        for (let offset = 1; offset <= 9; offset++) {
          const [first] = await store.conflicts(offset, aggregate);
          const r = await store.rebase(offset, [act(aggregate)], { dry: true });
          if (first === undefined) expect(r.result).toBe("ok");
          else expect(r.result === "conflict" && r.conflict.theirs).toStrictEqual(first);
        }
      }
    });

    it("resolving every listed seqNo lets the rebase through", async () => {
      const store = await factory.create();
      await write(store, HISTORY);
      const resolved = seqNos(await store.conflicts(2, X));
      expect((await store.rebase(2, [act(X)], { resolved, dry: true })).result).toBe("ok");
      expect((await store.rebase(2, [act(X)], { resolved: resolved.slice(1), dry: true })).result).toBe("conflict");
    });
  });
}
