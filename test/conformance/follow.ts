import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { EventStore } from "../../src/event-store.js";
import { type FollowOptions, type NewEvent, openStore, type Store, type StoredAction } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect, eff } from "../support/events.js";

/**
 * A follower running in the background: what it delivered, and a way to wait
 * until it has caught up with a head.
 */
function startFollower(store: Store, options: Omit<FollowOptions, "signal" | "onCaughtUp"> = {}) {
  const controller = new AbortController();
  const seen: StoredAction[] = [];
  const caughtUp: number[] = [];
  const waiters: { head: number; resolve: () => void }[] = [];
  const done = (async () => {
    const onCaughtUp = (head: number) => {
      caughtUp.push(head);
      for (const w of waiters.splice(0))
        if (head >= w.head) w.resolve();
        else waiters.push(w);
    };
    for await (const e of store.follow({ ...options, signal: controller.signal, onCaughtUp })) seen.push(e);
  })();
  return {
    seen,
    caughtUp,
    done,
    /** Resolves once the follower has reported caught-up at `head` or later. */
    at(head: number): Promise<void> {
      if (caughtUp.some((h) => h >= head)) return Promise.resolve();
      // A follower that failed rejects here instead of leaving the test waiting.
      const reached = new Promise<void>((resolve) => waiters.push({ head, resolve }));
      return Promise.race([reached, done.then(() => Promise.reject(new Error("the follower ended early")))]);
    },
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** The walkthrough's books and receipts, and a key expiry, as single commits. */
function commits(): NewEvent[][] {
  return [
    [act(["book", "Neuromancer"]), act(["book", "Count Zero"])],
    [act(["receipt", 1], { assoc: { total: 10 } }, { triggers: [["encryption-key", 1]] })],
    [act(["receipt", 2], { assoc: { total: 20 } }, { triggers: [["encryption-key", 2]] })],
    [eff(["encryption-key", 1])],
    [act(["book", "Neuromancer"], { assoc: { genre: "Cyberpunk" } }), act(["receipt", 1], { dissoc: ["total"] })],
    [eff(["encryption-key", 2]), eff(["encryption-key", 1])],
    [eff(["encryption-key", 3])],
    [act(["receipt", 3], { assoc: { total: 30 } }, { triggers: [["encryption-key", 1]] })],
    [eff(["encryption-key", 1]), act(["book", "Count Zero"], { assoc: { genre: "Cyberpunk" } })],
  ];
}

/** SPEC section 3, `follow`. */
export function testFollow(factory: StoreFactory): void {
  describe("follow (SPEC 3)", () => {
    it("yields what successive stream calls over the growing store yield, replays included, and reports each head", async () => {
      for (const filter of [{}, { kinds: ["receipt"] }, { aggregates: [["book", "Neuromancer"] as const] }]) {
        const store = await factory.create();
        await store.rebase(1, [act(["book", "Mona Lisa"])]);
        const follower = startFollower(store, { offset: 1, ...filter });
        await follower.at(1);
        const expected = await collect(store.stream({ offset: 1, ...filter }));
        for (const history of commits()) {
          const before = await store.currentSeqNo();
          const r = await store.rebase(before + 1, history);
          expect(r.result).toBe("ok");
          const head = await store.currentSeqNo();
          await follower.at(head);
          expected.push(...(await collect(store.stream({ offset: before + 1, ...filter }))));
          expect(follower.seen).toEqual(expected);
        }
        await follower.stop();
        expect(follower.caughtUp).toEqual([1, 3, 4, 5, 6, 8, 10, 11, 12, 14]);
      }
    });

    it("starts with what stream yields from the offset, replays included", async () => {
      const store = await factory.create();
      for (const history of commits()) await store.rebase((await store.currentSeqNo()) + 1, history);
      for (const offset of [0, 1, 4, 6, 7, 9, 12, 13, 14, 15, 40]) {
        const follower = startFollower(store, { offset });
        await follower.at(13);
        await follower.stop();
        expect(follower.seen).toEqual(await collect(store.stream({ offset })));
        expect(follower.caughtUp).toEqual([13]);
      }
    });

    it("an offset beyond the head yields from that offset once the store reaches it", async () => {
      const store = await factory.create();
      const follower = startFollower(store, { offset: 3 });
      await follower.at(0);
      await store.rebase(1, [act(["a", 1]), act(["a", 2])]);
      await follower.at(2);
      await store.rebase(3, [act(["a", 3]), act(["a", 4])]);
      await follower.at(4);
      await follower.stop();
      expect(follower.seen.map((e) => e.seqNo)).toEqual([3, 4]);
      expect(follower.caughtUp).toEqual([0, 2, 4]);
    });

    it("reads a backlog larger than a page in order, without repeats", async () => {
      const store = await factory.create();
      const n = 4500;
      await store.rebase(
        1,
        Array.from({ length: n }, (_, i) => act(["item", i % 7 === 0 ? "x" : i], { assoc: { i } })),
      );
      const follower = startFollower(store);
      await follower.at(n);
      await store.rebase(n + 1, [act(["item", "late"])]);
      await follower.at(n + 1);
      await follower.stop();
      expect(follower.seen.map((e) => e.seqNo)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
    });

    it("ends without error when the signal aborts while it waits, and at once when it is already aborted", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["a", 1])]);
      const follower = startFollower(store);
      await follower.at(1);
      await follower.stop();
      expect(follower.seen.map((e) => e.seqNo)).toEqual([1]);
      const controller = new AbortController();
      controller.abort();
      expect(await collect(store.follow({ signal: controller.signal }))).toEqual([]);
    });

    it("ends at once when its iterator is given up while it waits for commits (a destroyed Readable.from)", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["a", 1])]);
      const iterator = store.follow()[Symbol.asyncIterator]();
      expect((await iterator.next()).value?.seqNo).toBe(1);
      // Waits for a commit that never comes: return() must not wait for it.
      const waiting = iterator.next();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await iterator.return?.()).toEqual({ done: true, value: undefined });
      expect(await waiting).toEqual({ done: true, value: undefined });
      // Through a stream, as Node's own pipelines give it up.
      const readable = Readable.from(store.follow());
      const first = await new Promise<StoredAction>((resolve) => readable.once("data", resolve));
      expect(first.seqNo).toBe(1);
      const closed = new Promise((resolve) => readable.once("close", resolve));
      readable.destroy();
      await closed;
    });

    for (const read of ["headAndEffects", "actionPage"] as const) {
      it(`ends when the signal aborts while its read of the store (${read}) hangs, and the read's late failure is nobody's`, async () => {
        const store = await factory.create();
        await store.rebase(1, [act(["a", 1])]);
        const follower = startFollower(store);
        await follower.at(1);
        // The database stops answering (a network partition): the next read hangs until it fails.
        const backend = (store as unknown as EventStore).backend as unknown as Record<string, unknown>;
        let fail: ((error: Error) => void) | undefined;
        const hanging = () => new Promise((_, reject) => (fail = reject));
        backend[read] = hanging;
        try {
          // Wakes the follower, whose reads go to the hanging one.
          expect((await store.rebase(2, [act(["a", 2])])).result).toBe("ok");
          while (fail === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
          await follower.stop();
          fail(new Error("connection lost"));
          expect(follower.seen.map((e) => e.seqNo)).toEqual([1]);
        } finally {
          delete backend[read];
        }
      });
    }

    it("awaits an async onCaughtUp, and its rejection ends the iteration with that error", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["a", 1])]);
      const seen: number[] = [];
      const calls: number[] = [];
      const iterate = async () => {
        for await (const e of store.follow({
          onCaughtUp: async (head) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            calls.push(head);
            throw new Error("listener broke");
          },
        })) {
          seen.push(e.seqNo);
        }
      };
      await expect(iterate()).rejects.toThrow("listener broke");
      expect(seen).toEqual([1]);
      expect(calls).toEqual([1]);
    });

    it("ends when its signal aborts while an async onCaughtUp has not settled", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["a", 1])]);
      const controller = new AbortController();
      const seen: number[] = [];
      for await (const e of store.follow({
        signal: controller.signal,
        onCaughtUp: () => {
          setTimeout(() => controller.abort(), 10);
          return new Promise(() => {});
        },
      })) {
        seen.push(e.seqNo);
      }
      expect(seen).toEqual([1]);
    });

    it("ends when the consumer breaks out of the loop, and a later follower starts afresh", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["a", 1]), act(["a", 2]), act(["a", 3])]);
      const seen: number[] = [];
      for await (const e of store.follow()) {
        seen.push(e.seqNo);
        if (e.seqNo === 2) break;
      }
      expect(seen).toEqual([1, 2]);
      const again: number[] = [];
      for await (const e of store.follow({ offset: 3 })) {
        again.push(e.seqNo);
        break;
      }
      expect(again).toEqual([3]);
    });

    // A store of the process (memory:, sqlite::memory:) has no database another store could open.
    it.skipIf(!factory.shared)("wakes on commits made through another store opened on the same database", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      const writer = openStore(url);
      try {
        const follower = startFollower(store);
        await follower.at(0);
        await writer.rebase(1, [act(["a", 1])]);
        await follower.at(1);
        await writer.rebase(2, [act(["a", 2])]);
        await follower.at(2);
        await follower.stop();
        expect(follower.seen.map((e) => e.seqNo)).toEqual([1, 2]);
      } finally {
        await writer.close();
      }
    });

    it("rejects bad options on the first iteration with a ValidationError naming the field", async () => {
      const store = await factory.create();
      const bad: [unknown, string][] = [
        [{ signal: {} }, "options.signal"],
        [{ signal: "abort" }, "options.signal"],
        [{ onCaughtUp: 5 }, "options.onCaughtUp"],
        [{ offset: -1 }, "options.offset"],
        [{ offset: 1.5 }, "options.offset"],
        [{ kinds: [] }, "options.kinds"],
        [{ aggregates: [["a"]] }, "options.aggregates[0]"],
        [{ signals: new AbortController().signal }, "options.signals"],
        [null, "options"],
      ];
      for (const [options, path] of bad) {
        await expect(collect(store.follow(options as FollowOptions))).rejects.toMatchObject({
          name: "ValidationError",
          path,
        });
      }
    });

    it("rejects with StoreClosedError once the store is closed", async () => {
      const store = await factory.create();
      await store.close();
      await expect(collect(store.follow())).rejects.toMatchObject({ name: "StoreClosedError" });
    });
  });
}
