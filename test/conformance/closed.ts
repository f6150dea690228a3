import { describe, expect, it } from "vitest";
import {
  deleteProjection,
  listProjections,
  openKeystore,
  openStore,
  type Projection,
  rebuildProjection,
  runProjection,
  type Store,
  StoreClosedError,
} from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect } from "../support/events.js";

const PROJECTION: Projection = { name: "closed", apply: () => {} };

/** SPEC section 4: `store.close()`, and `store.initSchema()` is idempotent. */
export function testClosed(factory: StoreFactory): void {
  describe("initSchema: idempotent", () => {
    it("run again on a store with events, it keeps every event and the next rebase numbers on", async () => {
      const store = await factory.create();
      const first = await store.rebase(1, [act(["b", 1]), act(["b", 2])]);
      expect(first.result).toBe("ok");
      await store.initSchema();
      await store.initSchema();
      expect(await store.currentSeqNo()).toBe(2);
      expect(await collect(store.stream())).toEqual(first.result === "ok" ? first.events : []);
      const next = await store.rebase(3, [act(["b", 1])]);
      expect(next.result === "ok" && next.events.map((e) => e.seqNo)).toEqual([3]);
    });
  });

  describe("close: closing twice is harmless; any other later call rejects with StoreClosedError", () => {
    const calls: [string, (store: Store) => Promise<unknown>][] = [
      ["initSchema", (s) => s.initSchema()],
      ["rebase", (s) => s.rebase(2, [act(["b", 2])])],
      ["a dry rebase", (s) => s.rebase(2, [act(["b", 2])], { dry: true })],
      ["stream, on its first iteration", (s) => collect(s.stream())],
      ["stream with options", (s) => collect(s.stream({ offset: 1, kinds: ["b"] }))],
      ["currentSeqNo", (s) => s.currentSeqNo()],
      ["conflicts", (s) => s.conflicts(1, ["b", 1])],
      ["aggregate", (s) => s.aggregate(["b", 1])],
      ["follow, on its first iteration", (s) => collect(s.follow())],
      ["runProjection", (s) => runProjection(s, PROJECTION)],
      ["rebuildProjection", (s) => rebuildProjection(s, PROJECTION)],
      ["listProjections", (s) => listProjections(s)],
      ["deleteProjection", (s) => deleteProjection(s, "closed")],
      ["runProjection with a bad projection", (s) => runProjection(s, {} as never)],
      ["rebuildProjection with a bad projection", (s) => rebuildProjection(s, {} as never)],
      ["listProjections with a bad name", (s) => listProjections(s, "" as never)],
      ["deleteProjection with a bad name", (s) => deleteProjection(s, 1 as never)],
    ];
    for (const [name, call] of calls) {
      it(`${name} after close`, async () => {
        const store = await factory.create();
        expect((await store.rebase(1, [act(["b", 1])])).result).toBe("ok");
        await store.close();
        await store.close();
        const error = await call(store).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreClosedError);
        expect(error).toMatchObject({ name: "StoreClosedError", code: "store-closed" });
      });
    }

    it("calls running when close() is called finish with their results; close() waits for them", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["b", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      const running = Promise.all([
        store.rebase(1, [act(["b", 1], { assoc: { n: 2 } })]),
        store.aggregate(["b", 1]),
        store.conflicts(1, ["b", 1]),
        store.currentSeqNo(),
      ]);
      await store.close();
      const [rebased, state, conflicts, head] = await running;
      expect(rebased).toMatchObject({ result: "conflict", conflict: { theirs: { seqNo: 1 } } });
      expect(state).toEqual({ state: { n: 1 }, seqNo: 1 });
      expect(conflicts.map((e) => e.seqNo)).toEqual([1]);
      expect(head).toBe(1);
      await expect(store.currentSeqNo()).rejects.toBeInstanceOf(StoreClosedError);
    });

    it("calls started in the turn before close() settle, none hangs; every close() waits for them", async () => {
      const keyed = await factory.create();
      expect((await keyed.rebase(1, [act(["b", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      const calls: [string, (store: Store) => Promise<unknown>][] = [
        ["stream", (s) => collect(s.stream({ offset: 1 }))],
        ["listProjections", (s) => listProjections(s)],
        ["runProjection", (s) => runProjection(s, PROJECTION)],
        ["encrypt", (s) => openKeystore(s, { masterKey: "11".repeat(32) }).encrypt(["k", 1], "v")],
      ];
      for (const [name, call] of calls) {
        const store = factory.shared ? openStore(factory.lastUrl as string) : keyed;
        if (store === keyed && name !== "stream") continue;
        const started = call(store).then(
          () => "settled",
          (e: unknown) => (e instanceof StoreClosedError ? "settled" : e),
        );
        await new Promise((resolve) => setImmediate(resolve));
        const closes = [store.close(), store.close()];
        let closed = 0;
        for (const c of closes) void c.then(() => closed++);
        const outcome = await Promise.race([started, new Promise((r) => setTimeout(() => r("hung"), 30_000))]);
        expect({ name, outcome }).toEqual({ name, outcome: "settled" });
        await Promise.all(closes);
        expect(closed).toBe(2);
      }
    });

    it("keystore.expireDue and listProjections running when close() is called finish with their results", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["b", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      const keystore = openKeystore(store, { masterKey: "11".repeat(32) });
      const past = new Date(Date.now() - 1000);
      for (let i = 0; i < 10; i++) await keystore.encrypt(["k", i], "v", { expiresAt: past });
      await rebuildProjection(store, PROJECTION);
      const due = keystore.expireDue();
      const listed = listProjections(store);
      await new Promise((resolve) => setImmediate(resolve));
      await store.close();
      expect((await due).effects).toHaveLength(10);
      expect((await listed).map((p) => p.name)).toEqual(["closed"]);
    });

    it("a long aggregate() running when close() is called returns its state", async () => {
      const store = await factory.create();
      const history = Array.from({ length: 2500 }, (_, i) => act(["b", 1], { assoc: { n: i } }));
      expect((await store.rebase(1, history)).result).toBe("ok");
      const state = store.aggregate(["b", 1]);
      await store.close();
      expect(await state).toEqual({ state: { n: 2499 }, seqNo: 2500 });
    });

    it("a projection running when its store closes ends with StoreClosedError", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["b", 1])])).result).toBe("ok");
      let caughtUp = () => {};
      const upToDate = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      const running = runProjection(store, PROJECTION, { onCaughtUp: () => caughtUp() });
      const ended = running.then(
        () => undefined,
        (e: unknown) => e,
      );
      await upToDate;
      await store.close();
      expect(await ended).toBeInstanceOf(StoreClosedError);
    });

    it("closing twice at once is harmless", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["b", 1])])).result).toBe("ok");
      await Promise.all([store.close(), store.close()]);
      await expect(store.currentSeqNo()).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
