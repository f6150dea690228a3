import { describe, expect, it } from "vitest";
import type { Identity, NewEvent, Store, StreamOptions } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect, eff } from "../support/events.js";
import { numbered, seqNos } from "../support/store-state.js";

const A: Identity = ["receipt", 1];
const B: Identity = ["receipt", 2];
const C: Identity = ["book", 1];

async function write(store: Store, history: NewEvent[]): Promise<void> {
  const r = await store.rebase((await store.currentSeqNo()) + 1, history);
  expect(r.result).toBe("ok");
}

async function streamed(store: Store, options?: StreamOptions): Promise<number[]> {
  return seqNos(await collect(store.stream(options)));
}

/**
 * 1 A [k1]   2 B [k2]   3 C   4 A   5 effect k1   6 B   7 C [k3]   8 effect k9   9 effect k3
 */
async function fixture(factory: StoreFactory): Promise<Store> {
  const store = await factory.create();
  await write(store, [act(A, undefined, { triggers: [["key", 1]] }), act(B, undefined, { triggers: [["key", 2]] })]);
  await write(store, [act(C), act(A), eff(["key", 1]), act(B)]);
  await write(store, [act(C, undefined, { triggers: [["key", 3]] }), eff(["key", 9]), eff(["key", 3])]);
  return store;
}

/** SPEC section 3: `stream`. */
export function testStream(factory: StoreFactory): void {
  describe("stream: actions in ascending seqNo, without duplicates, effects never yielded", () => {
    it("from offset 0 it yields every action, whole, as written", async () => {
      const store = await factory.create();
      const history = [act(A, undefined, { triggers: [["key", 1]] }), eff(["key", 1]), act(B), eff(["key", 2])];
      await write(store, history);
      const [one, , three] = numbered(history, 1);
      expect(await collect(store.stream())).toStrictEqual([one, three]);
    });

    it("an empty store yields nothing", async () => {
      const store = await factory.create();
      expect(await streamed(store)).toEqual([]);
      expect(await streamed(store, { offset: 5 })).toEqual([]);
    });

    it("an action that is both replayed and past the offset comes once", async () => {
      const store = await fixture(factory);
      for (let offset = 0; offset <= 10; offset++) {
        const got = await streamed(store, { offset });
        expect(got).toEqual([...new Set(got)].sort((a, b) => a - b));
      }
    });
  });

  describe("stream: offsets 0 and 1 are the same", () => {
    it("both yield every action", async () => {
      const store = await fixture(factory);
      expect(await collect(store.stream({ offset: 0 }))).toStrictEqual(await collect(store.stream({ offset: 1 })));
      expect(await streamed(store, { offset: 1 })).toEqual([1, 2, 3, 4, 6, 7]);
      expect(await streamed(store, {})).toEqual([1, 2, 3, 4, 6, 7]);
    });
  });

  describe("stream: actions with seqNo >= offset, plus earlier actions of aggregates an effect since offset replays", () => {
    it("yields the union of both halves, per offset", async () => {
      const store = await fixture(factory);
      // Effects: 5 on k1 (A), 8 on k9 (nobody), 9 on k3 (C, whose trigger came at 7).
      expect(await streamed(store, { offset: 2 })).toEqual([1, 2, 3, 4, 6, 7]);
      expect(await streamed(store, { offset: 5 })).toEqual([1, 3, 4, 6, 7]);
      expect(await streamed(store, { offset: 6 })).toEqual([3, 6, 7]);
      expect(await streamed(store, { offset: 8 })).toEqual([3, 7]);
      expect(await streamed(store, { offset: 9 })).toEqual([3, 7]);
      expect(await streamed(store, { offset: 10 })).toEqual([]);
      expect(await streamed(store, { offset: 1000 })).toEqual([]);
    });

    it("a trigger an aggregate takes after the head the stream read replays nothing of it (the replay stops at that head)", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["a", 1])])).result).toBe("ok");
      expect((await store.rebase(2, [eff(["key", 1])])).result).toBe("ok");
      // Right after the stream has read the head (2), a writer gives the aggregate the effect's trigger.
      type Read = (from: number) => Promise<{ head: number; effects: boolean }>;
      const backend = (store as unknown as { backend: { headAndEffects: Read } }).backend;
      const head = backend.headAndEffects;
      backend.headAndEffects = async function (this: unknown, from: number) {
        backend.headAndEffects = head;
        const read = await head.call(this, from);
        expect((await store.rebase(3, [act(["a", 1], { assoc: { n: 3 } }, { triggers: [["key", 1]] })])).result).toBe(
          "ok",
        );
        return read;
      };
      try {
        expect(await collect(store.stream({ offset: 2 }))).toEqual([]);
      } finally {
        backend.headAndEffects = head;
      }
      expect(await store.currentSeqNo()).toBe(3);
      // Read again, at head 3: the aggregate carries the key, so its action at 1 is replayed, then 3.
      expect((await collect(store.stream({ offset: 2 }))).map((e) => e.seqNo)).toEqual([1, 3]);
    });

    it("a trigger carried by a later action replays the aggregate's earlier actions", async () => {
      const store = await factory.create();
      await write(store, [act(A), act(B), act(A, undefined, { triggers: [["key", 1]] }), eff(["key", 1])]);
      expect(await streamed(store, { offset: 3 })).toEqual([1, 3]);
      expect(await streamed(store, { offset: 4 })).toEqual([1, 3]);
    });

    it("an effect before the offset replays nothing; an effect on a trigger nobody carries replays nothing", async () => {
      const store = await factory.create();
      await write(store, [act(A, undefined, { triggers: [["key", 1]] }), eff(["key", 1]), act(B), eff(["key", "1"])]);
      expect(await streamed(store, { offset: 3 })).toEqual([3]);
    });

    it('triggers compare exactly: ["key", 1] is not ["key", "1"]', async () => {
      const store = await factory.create();
      await write(store, [
        act(A, undefined, { triggers: [["key", "1"]] }),
        act(B, undefined, { triggers: [["key", 1]] }),
      ]);
      await write(store, [eff(["key", 1])]);
      expect(await streamed(store, { offset: 3 })).toEqual([2]);
    });
  });

  describe("stream: `aggregates` and `kinds` restrict both halves", () => {
    it("aggregates filter the actions past the offset and the replayed ones", async () => {
      const store = await fixture(factory);
      expect(await streamed(store, { offset: 5, aggregates: [A] })).toEqual([1, 4]);
      expect(await streamed(store, { offset: 5, aggregates: [B] })).toEqual([6]);
      expect(await streamed(store, { offset: 5, aggregates: [C, B] })).toEqual([3, 6, 7]);
      expect(await streamed(store, { offset: 0, aggregates: [A] })).toEqual([1, 4]);
      expect(await streamed(store, { aggregates: [["receipt", "1"]] })).toEqual([]);
      expect(await streamed(store, { aggregates: [["nothing", 1]] })).toEqual([]);
    });

    it("kinds filter the actions past the offset and the replayed ones", async () => {
      const store = await fixture(factory);
      expect(await streamed(store, { offset: 5, kinds: ["receipt"] })).toEqual([1, 4, 6]);
      expect(await streamed(store, { offset: 6, kinds: ["book"] })).toEqual([3, 7]);
      expect(await streamed(store, { offset: 6, kinds: ["receipt"] })).toEqual([6]);
      expect(await streamed(store, { offset: 0, kinds: ["book", "receipt"] })).toEqual([1, 2, 3, 4, 6, 7]);
      expect(await streamed(store, { kinds: ["Book"] })).toEqual([]);
    });

    it("long filter lists (hundreds of identities and kinds) filter exactly", async () => {
      const store = await factory.create();
      await write(
        store,
        Array.from({ length: 300 }, (_, i) => act(["item", i], undefined, { triggers: [["key", i % 2]] })),
      );
      await write(store, [eff(["key", 0]), act(["item", 1])]);
      const ids: Identity[] = Array.from({ length: 700 }, (_, i) => ["item", 2 * i]);
      const kinds = [...Array.from({ length: 700 }, (_, i) => `item${i}`), "item"];
      const evens = Array.from({ length: 150 }, (_, i) => 2 * i + 1);
      expect(await streamed(store, { offset: 301, aggregates: ids })).toEqual(evens);
      expect(await streamed(store, { offset: 301, aggregates: [...ids, ["item", 1]], kinds })).toEqual([...evens, 302]);
      expect(await streamed(store, { offset: 250, kinds })).toEqual([
        ...evens.filter((s) => s < 250),
        ...Array.from({ length: 51 }, (_, i) => 250 + i),
        302,
      ]);
    });

    it("aggregates and kinds together keep what passes both", async () => {
      const store = await fixture(factory);
      expect(await streamed(store, { offset: 5, aggregates: [A, C], kinds: ["receipt"] })).toEqual([1, 4]);
      expect(await streamed(store, { offset: 5, aggregates: [A], kinds: ["book"] })).toEqual([]);
    });
  });

  describe("stream: an invalid argument rejects at the latest on the first iteration", () => {
    const bad: [string, unknown, string, string][] = [
      ["an empty aggregates list", { aggregates: [] }, "empty", "options.aggregates"],
      ["an empty kinds list", { kinds: [] }, "empty", "options.kinds"],
      ["a negative offset", { offset: -1 }, "invalid-number", "options.offset"],
      ["a fractional offset", { offset: 1.5 }, "invalid-number", "options.offset"],
    ];
    for (const [name, options, code, path] of bad) {
      it(`${name}: ValidationError ${code} at ${path}`, async () => {
        const store = await fixture(factory);
        let iterator: AsyncIterator<unknown> | undefined;
        try {
          iterator = store.stream(options as StreamOptions)[Symbol.asyncIterator]();
          await iterator.next();
          expect.unreachable("the first iteration should have rejected");
        } catch (error) {
          expect(error).toMatchObject({ name: "ValidationError", code, path });
        }
      });
    }
  });

  describe("stream: a stream larger than one page is complete and ordered", () => {
    // A generous timeout: on a server shared with the other suites, 30,000 rows read can take a while.
    it("5,000 actions, all replayed, then more: every page, both halves, with and without filters", async () => {
      const store = await factory.create();
      const n = 5000;
      const aggregates: Identity[] = [0, 1, 2, 3, 4].map((i) => ["item", i]);
      const history = Array.from({ length: n }, (_, i) =>
        act(aggregates[i % 5] as Identity, { assoc: { i } }, { triggers: [["key", i % 5]] }),
      );
      for (const [from, to] of [
        [0, 2000],
        [2000, 4000],
        [4000, n],
      ]) {
        await write(store, history.slice(from, to));
      }
      await write(
        store,
        [0, 1, 2, 3, 4].map((k) => eff(["key", k])),
      );
      await write(store, [act(["item", 0]), act(["other", 1])]);
      const head = n + 7;
      expect(await store.currentSeqNo()).toBe(head);

      const everything = await collect(store.stream());
      const expected = [...Array.from({ length: n }, (_, i) => i + 1), n + 6, n + 7];
      expect(seqNos(everything)).toEqual(expected);
      expect(everything.slice(0, n)).toStrictEqual(numbered(history, 1));

      // Offset past the last action: every earlier action is replayed, across pages.
      expect(await streamed(store, { offset: n + 1 })).toEqual(expected);
      expect(await streamed(store, { offset: n + 3 })).toEqual(
        expected.filter((s) => s > n || [2, 3, 4].includes((s - 1) % 5)),
      );
      expect(await streamed(store, { offset: n + 6, aggregates: [["item", 0]] })).toEqual([n + 6]);
      expect(await streamed(store, { offset: n + 1, aggregates: [["item", 4]] })).toEqual(
        Array.from({ length: n / 5 }, (_, i) => 5 * i + 5),
      );
      expect(await streamed(store, { offset: 2500, kinds: ["item"] })).toEqual(expected.slice(0, n + 1));
    }, 180_000);

    it("actions ending at a page's edge or just past it, effects after them: each action once, then the end", async () => {
      // The first page is read before the head: full, the head read after it bounds the rest.
      // Pages are of 1,000 (PostgreSQL) or 2,000 rows.
      const store = await factory.create();
      let actions = 0;
      for (const edge of [999, 1000, 1001, 1999, 2000, 2001]) {
        await write(store, [
          ...Array.from({ length: edge - actions }, (_, i) => act(["item", (actions + i) % 3])),
          eff(["key", edge]),
        ]);
        actions = edge;
        const head = await store.currentSeqNo();
        const got = await collect(store.stream());
        expect(got.length).toBe(edge);
        expect(seqNos(got)).toEqual([...new Set(seqNos(got))].sort((a, b) => a - b));
        expect(got.at(-1)?.seqNo).toBe(head - 1);
        expect(await collect(store.stream({ kinds: ["item"] }))).toStrictEqual(got);
        const ofOne = await streamed(store, { aggregates: [["item", 1]] });
        expect(ofOne).toEqual(seqNos(got).filter((_, i) => i % 3 === 1));
      }
    }, 120_000);
  });
}
