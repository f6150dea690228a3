import { deepStrictEqual } from "node:assert/strict";
import { describe, expect, it } from "vitest";
import type { Identity, Json, NewAction, NewEvent, Patch, Store } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect, eff } from "../support/events.js";
import { numbered } from "../support/store-state.js";

/**
 * Writes the history and checks that everything reads back deepStrictEqual to
 * `expected` (the history as written, unless a value is normalized): the
 * rebase result, the stream, a conflict's `theirs` and `store.conflicts`.
 */
async function roundTrip(store: Store, history: NewEvent[], expected: NewEvent[] = history): Promise<void> {
  const want = numbered(expected, 1);
  const r = await store.rebase(1, history);
  deepStrictEqual(r, { result: "ok", events: want });
  const actions = want.filter((e) => "action" in e);
  deepStrictEqual(await collect(store.stream()), actions);
  for (const e of actions) {
    if (!("action" in e)) continue;
    const c = await store.rebase(e.seqNo, [act(e.action.aggregate)], { dry: true });
    deepStrictEqual(c.result === "conflict" && c.conflict.theirs, e);
    deepStrictEqual((await store.conflicts(e.seqNo, e.action.aggregate))[0], e);
  }
}

const ASTRAL = "𝄞😀🀄"; // outside the BMP: two UTF-16 code units each

/** SPEC section 1: values read back equal to what was written, value for value, type for type. */
export function testRoundTrip(factory: StoreFactory): void {
  describe("round trip: timestamps keep millisecond precision", () => {
    it("past, present, far future, the epoch and before it", async () => {
      const dates = [
        new Date("2026-11-26T10:00:00.123Z"),
        new Date(0),
        new Date(-1),
        new Date("1900-02-28T23:59:59.999Z"),
        new Date(8.64e15),
        new Date(-8.64e15),
        new Date(1),
      ];
      await roundTrip(
        await factory.create(),
        dates.map((timestamp, i) => act(["t", i], undefined, { timestamp })),
      );
    });
  });

  describe('round trip: ids keep their type: 1 and "1" are different ids', () => {
    it("numbers stay numbers, strings stay strings, each its own aggregate", async () => {
      const ids = [1, "1", 0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, "01", "1.0", "true", "null", " "];
      const store = await factory.create();
      await roundTrip(
        store,
        ids.map((id) => act(["book", id], { assoc: { id } }, { actor: ["user", id], triggers: [["key", id]] })),
      );
      for (const [i, id] of ids.entries()) {
        deepStrictEqual(await store.aggregate(["book", id]), { state: { id }, seqNo: i + 1 });
      }
    });

    it("-0 as an id reads back as 0", async () => {
      await roundTrip(await factory.create(), [act(["book", -0])], [act(["book", 0])]);
    });
  });

  describe("round trip: the patch in the form it was written", () => {
    it("objects, pairs, key paths, keys as strings or one-element paths, dissocs", async () => {
      const patches: Patch[] = [
        { assoc: { a: 1, "b.c": 2, "": 3 } },
        { assoc: [["a", 1]] },
        { assoc: [[["a"], 1]] },
        {
          assoc: [
            [["a", "b", "c"], { d: [1, 2] }],
            ["a", null],
          ],
        },
        { dissoc: ["a"] },
        { dissoc: [["a"]] },
        { dissoc: [["a", "b"], "c"] },
        { assoc: { x: true }, dissoc: ["y"] },
        { assoc: [[["x", "y"], false]], dissoc: [["x", "z"]] },
      ];
      await roundTrip(
        await factory.create(),
        patches.map((patch, i) => act(["p", i], patch)),
      );
    });

    it("any JSON value: nesting, empty containers, big and small numbers, null", async () => {
      const value: Json = {
        nested: { a: [1, [2, [3, { b: [] }]], {}], c: {} },
        numbers: [0, 1.5, -2.25, 1e300, -1e-300, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, 0.1 + 0.2],
        strings: ["", " ", '\n\t"\\', "\u0001\u001f\u007f", "\u2028\u2029", "\uFEFF"],
        nothing: null,
        bools: [true, false],
      };
      await roundTrip(await factory.create(), [act(["v", 1], { assoc: { value } })]);
    });

    it("-0 in a patch reads back as 0, wherever it is", async () => {
      const written = act(["v", 1], { assoc: [["z", { a: -0, b: [-0, 0] }]] });
      const expected = act(["v", 1], { assoc: [["z", { a: 0, b: [0, 0] }]] });
      await roundTrip(await factory.create(), [written], [expected]);
    });

    it("values nested 64 levels deep", async () => {
      let deep: Json = "bottom";
      for (let i = 0; i < 64; i++) deep = i % 2 ? [deep] : { d: deep };
      await roundTrip(await factory.create(), [act(["v", 1], { assoc: [["deep", deep]] })]);
    });
  });

  describe("round trip: triggers in their order", () => {
    it("any order, mixed id types", async () => {
      const triggers: Identity[] = [
        ["key", 2],
        ["key", "2"],
        ["a", 1],
        ["key", 1],
        ["zz", "x"],
      ];
      const history = [act(["r", 1], undefined, { triggers }), eff(["key", "2"])];
      const store = await factory.create();
      await roundTrip(store, history);
      deepStrictEqual(await store.conflicts(1, ["r", 1]), numbered(history, 1));
    });
  });

  describe("round trip: unicode, astral characters included, in every string", () => {
    it("kinds, ids, reasons, sources, actors, keys and values", async () => {
      const s = `é ü ß 中文 עברית ${ASTRAL} e\u0301 👩‍👩‍👧`;
      const kind200 = ASTRAL.slice(0, 2).repeat(100);
      expect(kind200.length).toBe(200);
      const history: NewEvent[] = [
        act(
          [s, s],
          { assoc: { [s]: s, [ASTRAL]: [ASTRAL] } },
          { actor: [s, s], reason: s, source: s, triggers: [[s, s]] },
        ),
        act(
          [kind200, kind200],
          { assoc: [[[s, ASTRAL], s]], dissoc: [[ASTRAL, s]] },
          { source: kind200, reason: kind200 },
        ),
        { timestamp: new Date(5), source: s, effect: { reason: s, trigger: [s, s] } },
      ];
      const store = await factory.create();
      await roundTrip(store, history);
      deepStrictEqual(await store.aggregate([s, s]), { state: { [s]: s, [ASTRAL]: [ASTRAL] }, seqNo: 1 });
      deepStrictEqual((await collect(store.stream({ offset: 3, kinds: [s] }))).length, 1);
    });
  });

  describe("round trip: an optional key whose value is undefined counts as absent", () => {
    it("triggers, dissoc, assoc and the rebase and stream options", async () => {
      const written: NewAction = {
        timestamp: new Date(7),
        source: "s",
        action: { reason: "r", actor: ["u", 1], aggregate: ["b", 1], patch: { assoc: { a: 1 }, dissoc: undefined } },
        triggers: undefined,
      };
      const effect = {
        timestamp: new Date(8),
        source: "s",
        effect: { reason: "r", trigger: ["k", 1] },
        action: undefined,
      };
      const written2: NewAction = {
        ...written,
        action: { ...written.action, patch: { assoc: undefined, dissoc: ["a"] } },
      };
      const expected: NewEvent[] = [
        { timestamp: new Date(7), source: "s", action: { ...written.action, patch: { assoc: { a: 1 } } } },
        { timestamp: new Date(8), source: "s", effect: { reason: "r", trigger: ["k", 1] } },
        { timestamp: new Date(7), source: "s", action: { ...written.action, patch: { dissoc: ["a"] } } },
      ];
      const store = await factory.create();
      const r = await store.rebase(1, [written, effect as unknown as NewEvent, written2], {
        resolved: undefined,
        dry: undefined,
      });
      deepStrictEqual(r, { result: "ok", events: numbered(expected, 1) });
      deepStrictEqual(await collect(store.stream({ offset: undefined, aggregates: undefined, kinds: undefined })), [
        numbered(expected, 1)[0],
        numbered(expected, 1)[2],
      ]);
    });
  });
}
