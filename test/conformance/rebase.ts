import { describe, expect, it } from "vitest";
import { type NewEvent, openStore, type RebaseResult, type Store } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect, eff } from "../support/events.js";
import { expectUnchanged, numbered, seqNos, stateOf } from "../support/store-state.js";

const X = ["book", "x"] as const;
const Y = ["book", "y"] as const;

function ok(r: RebaseResult): number[] {
  expect(r.result).toBe("ok");
  return r.result === "ok" ? seqNos(r.events) : [];
}

/** Writes `history` on top of everything and expects it to be accepted. */
async function write(store: Store, history: NewEvent[]): Promise<number[]> {
  return ok(await store.rebase((await store.currentSeqNo()) + 1, history));
}

/** SPEC section 2: writing is rebasing. */
export function testRebase(factory: StoreFactory): void {
  describe("rebase rule 1: base > next sequence number gives invalid-seq-no and writes nothing", () => {
    it("an empty store is rebased on 1; base 2 is rejected with nextSeqNo 1", async () => {
      const store = await factory.create();
      expect(await store.rebase(2, [act(X)])).toEqual({ result: "invalid-seq-no", nextSeqNo: 1 });
      expect(await store.currentSeqNo()).toBe(0);
      expect(ok(await store.rebase(1, [act(X)]))).toEqual([1]);
    });

    it("nextSeqNo is the highest seqNo + 1, effects included", async () => {
      const store = await factory.create();
      await write(store, [act(X), eff(["key", 1])]);
      const before = await stateOf(store);
      for (const base of [4, 5, 1000, Number.MAX_SAFE_INTEGER]) {
        expect(await store.rebase(base, [act(Y)])).toEqual({ result: "invalid-seq-no", nextSeqNo: 3 });
        expect(await store.rebase(base, [act(Y)], { dry: true })).toEqual({ result: "invalid-seq-no", nextSeqNo: 3 });
      }
      await expectUnchanged(store, before);
    });

    it("base == next is accepted, and so is any base below it", async () => {
      const store = await factory.create();
      await write(store, [act(X), act(X)]);
      expect(ok(await store.rebase(3, [act(X)]))).toEqual([3]);
      expect(ok(await store.rebase(2, [act(Y)]))).toEqual([4]);
      expect(ok(await store.rebase(1, [act(["book", "z"])]))).toEqual([5]);
    });
  });

  describe("rebase rule 1 after writes of this process (the head it saw)", () => {
    it("a base past the next seqNo is invalid after writes on the head this process saw, too: no gap", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["a", 1])])).result).toBe("ok");
      expect((await store.rebase(2, [act(["a", 2])])).result).toBe("ok");
      expect(await store.rebase(4, [act(["a", 3])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 3 });
      expect(await store.currentSeqNo()).toBe(2);
      expect((await store.rebase(3, [act(["a", 3])])).result).toBe("ok");
      expect((await collect(store.stream())).map((e) => e.seqNo)).toEqual([1, 2, 3]);
    });
  });

  describe("rebase rule 2: the history is numbered next, next+1, … in its order", () => {
    it("actions and effects alike, whole events returned as written", async () => {
      const store = await factory.create();
      await write(store, [act(Y)]);
      const history = [act(X), eff(["key", 1]), act(Y, { assoc: { n: 2 } }, { triggers: [["key", 1]] }), act(X)];
      const r = await store.rebase(2, history);
      expect(r).toStrictEqual({ result: "ok", events: numbered(history, 2) });
      expect(await store.currentSeqNo()).toBe(5);
    });

    it("numbering continues after a stale base", async () => {
      const store = await factory.create();
      await write(store, [act(X), act(X), act(X)]);
      expect(ok(await store.rebase(1, [act(Y), act(Y)]))).toEqual([4, 5]);
    });
  });

  describe("rebase rule 3: an action conflicts with an action on its aggregate with seqNo >= base", () => {
    it("a stale action on the same aggregate conflicts; ours, theirs and the events before ours are returned", async () => {
      const store = await factory.create();
      const first = [act(X, { assoc: { title: "first" } }), act(Y)];
      await write(store, first);
      const history = [act(["book", "z"]), eff(["key", 9]), act(X, { assoc: { title: "second" } })];
      const r = await store.rebase(1, history);
      const [three, four, five] = numbered(history, 3);
      expect(r).toStrictEqual({
        result: "conflict",
        events: [three, four],
        conflict: { ours: five, theirs: numbered(first, 1)[0] },
      });
    });

    it("a history of 600 aggregates (more than one statement of the check takes) finds the conflict of the first", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["a", 0])])).result).toBe("ok");
      const history = Array.from({ length: 600 }, (_, i) => act(["a", i], { assoc: { n: i } }));
      expect(await store.rebase(1, history)).toMatchObject({
        result: "conflict",
        events: [],
        conflict: { ours: { seqNo: 2 }, theirs: { seqNo: 1 } },
      });
      // Its last aggregate alone, too.
      const last = [...history.slice(1), act(["a", 0])];
      expect(await store.rebase(1, last)).toMatchObject({
        result: "conflict",
        conflict: { ours: { seqNo: 601 }, theirs: { seqNo: 1 } },
      });
      expect(await store.currentSeqNo()).toBe(1);
    });

    it("the first action of the history that has a conflict ends the check", async () => {
      const store = await factory.create();
      await write(store, [act(X), act(Y)]);
      const r = await store.rebase(1, [act(["book", "free"]), act(Y), act(X)]);
      expect(r.result).toBe("conflict");
      if (r.result !== "conflict") return;
      expect(seqNos(r.events)).toEqual([3]);
      expect(r.conflict.ours.seqNo).toBe(4);
      expect(r.conflict.theirs.seqNo).toBe(2);
    });

    it("the conflict is the stored event with the lowest seqNo", async () => {
      const store = await factory.create();
      await write(store, [act(X), act(X), act(X), act(X)]);
      for (const base of [1, 2, 3, 4]) {
        const r = await store.rebase(base, [act(X)]);
        expect(r.result === "conflict" && r.conflict.theirs.seqNo).toBe(base);
      }
    });

    it("actions with seqNo < base do not conflict", async () => {
      const store = await factory.create();
      await write(store, [act(X), act(X), act(Y)]);
      expect(ok(await store.rebase(3, [act(X)]))).toEqual([4]);
    });

    it('actions on other aggregates do not conflict; 1 and "1" are different ids', async () => {
      const store = await factory.create();
      await write(store, [act(["book", 1]), act(["author", "1"]), act(["book", 2])]);
      expect(ok(await store.rebase(1, [act(["book", "1"]), act(["author", 1])]))).toEqual([4, 5]);
      const r = await store.rebase(1, [act(["book", 1])]);
      expect(r.result === "conflict" && r.conflict.theirs.seqNo).toBe(1);
    });
  });

  describe("rebase rule 3: identities compare exactly", () => {
    it("case, trailing spaces, accents and Unicode normalization forms make different aggregates and triggers", async () => {
      const store = await factory.create();
      const ids = ["a", "A", "a ", " a", "é", "e\u0301", "ss", "ß", "ﬁ", "fi"];
      const kinds = ["book", "Book", "book ", "böök", "bo\u0308o\u0308k"];
      const history = [
        ...ids.map((id) => act(["book", id], undefined, { triggers: [["key", id]] })),
        ...kinds.map((kind) => act([kind, 1], undefined, { triggers: [[kind, 1]] })),
      ];
      expect(ok(await store.rebase(1, history))).toHaveLength(history.length);
      expect(await store.currentSeqNo()).toBe(history.length);
      await write(store, [eff(["key", "a"]), eff(["Book", 1])]);
      // Each identity has exactly its own action as its conflict from 1, and only "a" and "Book" an effect.
      for (const [i, id] of ids.entries()) {
        const expected = id === "a" ? [i + 1, history.length + 1] : [i + 1];
        expect(seqNos(await store.conflicts(1, ["book", id]))).toEqual(expected);
      }
      for (const [i, kind] of kinds.entries()) {
        const expected = kind === "Book" ? [ids.length + i + 1, history.length + 2] : [ids.length + i + 1];
        expect(seqNos(await store.conflicts(1, [kind, 1]))).toEqual(expected);
      }
      // From the effects on, only "a" conflicts (through its trigger), whatever its look-alikes do.
      const last = await store.rebase(
        history.length + 1,
        [...ids].reverse().map((id) => act(["book", id])),
      );
      expect(last.result === "conflict" && seqNos(last.events)).toHaveLength(ids.length - 1);
      expect(last.result === "conflict" && last.conflict.theirs.seqNo).toBe(history.length + 1);
    });
  });

  describe("rebase rule 3: an action conflicts with an effect since base on a trigger of ANY stored action of its aggregate", () => {
    it("an effect on a trigger carried by an action before base conflicts", async () => {
      const store = await factory.create();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] }), act(Y)]);
      await write(store, [eff(["key", 1])]);
      const r = await store.rebase(3, [act(Y), act(X)]);
      expect(r.result).toBe("conflict");
      if (r.result !== "conflict") return;
      expect(seqNos(r.events)).toEqual([4]);
      expect(r.conflict.ours.seqNo).toBe(5);
      expect(r.conflict.theirs).toStrictEqual({ ...eff(["key", 1]), seqNo: 3 });
    });

    it("an effect on a trigger carried by an action written after the effect conflicts too", async () => {
      const store = await factory.create();
      await write(store, [
        act(Y),
        eff(["key", 1]),
        act(X, undefined, {
          triggers: [
            ["key", 2],
            ["key", 1],
          ],
        }),
      ]);
      const r = await store.rebase(2, [act(X)]);
      expect(r.result === "conflict" && r.conflict.theirs.seqNo).toBe(2);
    });

    it("an effect on a trigger of another aggregate, or on a trigger no action carries, does not conflict", async () => {
      const store = await factory.create();
      await write(store, [
        act(Y, undefined, { triggers: [["key", 1]] }),
        act(X, undefined, { triggers: [["key", "1"]] }),
      ]);
      await write(store, [eff(["key", 1]), eff(["key", 3])]);
      expect(ok(await store.rebase(3, [act(X)]))).toEqual([5]);
    });

    it("an effect before base does not conflict", async () => {
      const store = await factory.create();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] }), eff(["key", 1])]);
      expect(ok(await store.rebase(3, [act(X)]))).toEqual([3]);
    });

    it("the lowest seqNo wins between an action and an effect", async () => {
      const store = await factory.create();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] })]);
      await write(store, [eff(["key", 1]), act(X), eff(["key", 1])]);
      const r = await store.rebase(2, [act(X)]);
      expect(r.result === "conflict" && r.conflict.theirs.seqNo).toBe(2);
      const s = await store.rebase(3, [act(X)]);
      expect(s.result === "conflict" && s.conflict.theirs.seqNo).toBe(3);
      const t = await store.rebase(4, [act(X)]);
      expect(t.result === "conflict" && t.conflict.theirs.seqNo).toBe(4);
    });
  });

  describe("rebase rule 3: only the actions of the history are checked, against the store", () => {
    it("effects of the history are never checked", async () => {
      const store = await factory.create();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] }), eff(["key", 1])]);
      expect(ok(await store.rebase(1, [eff(["key", 1]), eff(["key", 2])]))).toEqual([3, 4]);
    });

    it("an action does not conflict with earlier events of its own history", async () => {
      const store = await factory.create();
      const history = [act(X, undefined, { triggers: [["key", 1]] }), eff(["key", 1]), act(X), act(X)];
      expect(ok(await store.rebase(1, history))).toEqual([1, 2, 3, 4]);
    });

    it("the history is checked against the store as it was, not as it would be", async () => {
      const store = await factory.create();
      await write(store, [act(Y)]);
      // Y's action at 1 conflicts; X in the same history, though written "before" it, does not.
      const r = await store.rebase(1, [act(X), act(X), act(Y)]);
      expect(r.result === "conflict" && [seqNos(r.events), r.conflict.ours.seqNo, r.conflict.theirs.seqNo]).toEqual([
        [2, 3],
        4,
        1,
      ]);
    });
  });

  describe("rebase rule 3: resolved skips exactly the named seqNos", () => {
    it("a resolved conflict moves to the next one, then to none", async () => {
      const store = await factory.create();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] }), act(X), eff(["key", 1]), act(Y)]);
      const theirs = async (resolved: number[]) => {
        const r = await store.rebase(1, [act(X)], { resolved, dry: true });
        return r.result === "conflict" ? r.conflict.theirs.seqNo : r.result;
      };
      expect(await theirs([])).toBe(1);
      expect(await theirs([1])).toBe(2);
      expect(await theirs([2, 1])).toBe(3);
      expect(await theirs([1, 3])).toBe(2);
      expect(await theirs([1, 2, 3])).toBe("ok");
      expect(await theirs([4, 5, 1000])).toBe(1);
      expect(ok(await store.rebase(1, [act(X)], { resolved: [3, 2, 1, 99] }))).toEqual([5]);
    });

    it("a resolved list of 40,000 entries (limits.resolvedLength raised) skips exactly the named seqNos", async () => {
      const store = await factory.create({ limits: { resolvedLength: 40_000 } });
      await write(store, [act(X), act(Y), act(X, undefined, { triggers: [["key", 1]] }), eff(["key", 1])]);
      const resolved = (skipped: number[]) =>
        Array.from({ length: 40_000 }, (_, i) => i + 1).filter((s) => !skipped.includes(s));
      const r = await store.rebase(1, [act(Y), act(X)], { resolved: resolved([1]), dry: true });
      expect(r.result === "conflict" && [r.conflict.ours.seqNo, r.conflict.theirs.seqNo]).toEqual([6, 1]);
      const s = await store.rebase(1, [act(Y), act(X)], { resolved: resolved([4]), dry: true });
      expect(s.result === "conflict" && [s.conflict.ours.seqNo, s.conflict.theirs.seqNo]).toEqual([6, 4]);
      const t = await store.rebase(1, [act(X), act(Y)], { resolved: resolved([2]), dry: true });
      expect(t.result === "conflict" && [t.conflict.ours.seqNo, t.conflict.theirs.seqNo]).toEqual([6, 2]);
      expect(ok(await store.rebase(1, [act(X), act(Y)], { resolved: resolved([]) }))).toEqual([5, 6]);
    });

    it("resolving one aggregate's conflict does not resolve another's", async () => {
      const store = await factory.create();
      await write(store, [act(X), act(Y)]);
      const r = await store.rebase(1, [act(X), act(Y)], { resolved: [1] });
      expect(r.result === "conflict" && [r.conflict.ours.seqNo, r.conflict.theirs.seqNo]).toEqual([4, 2]);
    });
  });

  describe("rebase rule 4: dry returns the same result and writes nothing", () => {
    it("ok, conflict and invalid-seq-no are the same with dry: true, and nothing is written", async () => {
      const store = await factory.create();
      await write(store, [act(X, undefined, { triggers: [["key", 1]] }), eff(["key", 1])]);
      const before = await stateOf(store);
      const cases: [number, NewEvent[]][] = [
        [3, [act(X), eff(["key", 2])]],
        [1, [act(Y), act(X)]],
        [2, [act(Y), act(X)]],
        [9, [act(Y)]],
      ];
      const dry: RebaseResult[] = [];
      for (const [base, history] of cases) dry.push(await store.rebase(base, history, { dry: true }));
      await expectUnchanged(store, before);
      expect(dry.map((r) => r.result)).toEqual(["ok", "conflict", "conflict", "invalid-seq-no"]);
      // Backwards, so that the one case that writes comes last and the others see the same store.
      for (let i = cases.length - 1; i >= 0; i--) {
        const [base, history] = cases[i] as [number, NewEvent[]];
        expect(await store.rebase(base, history)).toStrictEqual(dry[i]);
      }
      expect(await store.currentSeqNo()).toBe(4);
    });
  });

  describe("rebase rule 4: all or nothing", () => {
    it("a conflict writes none of the history, not even the events before ours", async () => {
      const store = await factory.create();
      await write(store, [act(X)]);
      const before = await stateOf(store);
      const r = await store.rebase(1, [act(Y), eff(["key", 1]), act(Y), act(X)]);
      expect(r.result === "conflict" && seqNos(r.events)).toEqual([2, 3, 4]);
      await expectUnchanged(store, before);
      expect(await store.aggregate(Y)).toBeUndefined();
    });

    it("a history that is invalid in its last event writes nothing", async () => {
      const store = await factory.create();
      await write(store, [act(X)]);
      const before = await stateOf(store);
      await expect(store.rebase(2, [act(Y), act(Y), act(["book", ""])] as NewEvent[])).rejects.toMatchObject({
        name: "ValidationError",
        path: "history[2].action.aggregate[1]",
      });
      await expectUnchanged(store, before);
    });
  });

  describe("rebase rule 5: seqNos are global, gapless and assigned in commit order", () => {
    it("concurrent rebases of one process get distinct, gapless seqNos", async () => {
      const store = await factory.create();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.rebase(1, [act(["book", i]), act(["book", i])])),
      );
      const all = results.flatMap((r) => (r.result === "ok" ? seqNos(r.events) : [])).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await store.currentSeqNo()).toBe(40);
      const streamed = seqNos((await stateOf(store)).actions);
      expect(streamed).toEqual(all);
    });

    it("a writer on the base after its last write, when another store wrote in between: conflict or the next seqNos, never a gap", async () => {
      const store = await factory.create();
      const url = factory.lastUrl;
      // A store of the process (memory:, sqlite::memory:) has no other store on its database: the same one writes.
      const other = url === undefined || !factory.shared ? store : openStore(url);
      try {
        expect(ok(await store.rebase(1, [act(X)]))).toEqual([1]);
        expect(ok(await other.rebase(2, [act(Y), act(Y)]))).toEqual([2, 3]);
        // The writer last saw head 1: base 2 is stale, and seqNo 2 is taken.
        const r = await store.rebase(2, [act(Y)]);
        expect(r.result).toBe("conflict");
        if (r.result === "conflict") expect(r.conflict.theirs.seqNo).toBe(2);
        expect(ok(await store.rebase(2, [act(X), eff(["key", 1])]))).toEqual([4, 5]);
        expect(ok(await store.rebase(6, [act(X)]))).toEqual([6]);
        expect(ok(await other.rebase(7, [act(["book", "z"])]))).toEqual([7]);
        expect(await store.rebase(9, [act(X)])).toEqual({ result: "invalid-seq-no", nextSeqNo: 8 });
        expect(ok(await store.rebase(7, [act(X)]))).toEqual([8]);
        expect(seqNos((await stateOf(store)).actions)).toEqual([1, 2, 3, 4, 6, 7, 8]);
      } finally {
        if (other !== store) await other.close();
      }
    });

    it("concurrent rebases on the same aggregate and base: exactly one wins, the others conflict with it", async () => {
      const store = await factory.create();
      const results = await Promise.all(Array.from({ length: 10 }, () => store.rebase(1, [act(X)])));
      expect(results.filter((r) => r.result === "ok")).toHaveLength(1);
      for (const r of results) if (r.result === "conflict") expect(r.conflict.theirs.seqNo).toBe(1);
      expect(await store.currentSeqNo()).toBe(1);
    });
  });
}
