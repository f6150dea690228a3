import { describe, expect, it } from "vitest";
import {
  deleteProjection,
  type Identity,
  listProjections,
  type NewEvent,
  openStore,
  type ProjectionContext,
  rebuildProjection,
  runProjection,
  type Store,
  type StoredAction,
} from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, eff } from "../support/events.js";
import {
  catchUp,
  expectedStates,
  foldBatchProjection,
  foldProjection,
  type ReadModelContents,
  reader,
  readModel,
} from "../support/read-model.js";

/** The two forms of the folding read model: one action per `apply`, or a batch per `applyBatch`. */
const FOLDS = [
  ["apply", foldProjection],
  ["applyBatch", foldBatchProjection],
] as const;

/** The walkthrough's books and receipts, a key expiry, and more changes after it. */
function history(): NewEvent[][] {
  return [
    [act(["book", "Neuromancer"], { assoc: { author: "William Gibson", genre: "SciFi" } })],
    [act(["book", "Count Zero"], { assoc: { author: "William Gibson", genre: "Cyberpunk" } })],
    [act(["receipt", 1], { assoc: { no: "R-1", total: 10 } }, { triggers: [["encryption-key", 1]] })],
    [act(["receipt", 2], { assoc: { no: "R-2", total: 20 } }, { triggers: [["encryption-key", 2]] })],
    [eff(["encryption-key", 1])],
    [act(["receipt", 1], { dissoc: ["total"] }), act(["book", "Neuromancer"], { assoc: { genre: "Cyberpunk" } })],
    [eff(["encryption-key", 2]), act(["receipt", 2], { assoc: { total: 21 } })],
  ];
}

async function commitAll(store: Store, commits: NewEvent[][]): Promise<void> {
  for (const events of commits) {
    const r = await store.rebase((await store.currentSeqNo()) + 1, events);
    expect(r.result).toBe("ok");
  }
}

/** Runs a projection until it has caught up with the store's head, then stops it. */
const runUntilCaughtUp = catchUp;

/** A read model counting the actions applied to each aggregate (by id) since its last reset: not idempotent. */
function countingProjection(name: string) {
  const memory = new Map<string, number>();
  const p = (ctx: ProjectionContext, n: number) =>
    Array.from({ length: n }, (_, i) => (ctx.sql?.dialect === "postgres" ? `$${i + 1}` : "?"));
  const set = async (ctx: ProjectionContext, id: string, n: number | undefined) => {
    if (!ctx.sql) {
      if (n === undefined) memory.delete(id);
      else memory.set(id, n);
      return;
    }
    const [a, b] = p(ctx, 2);
    await ctx.sql.run(`delete from ${name} where id = ${a}`, [id]);
    if (n !== undefined) await ctx.sql.run(`insert into ${name} (id, n) values (${a}, ${b})`, [id, n]);
  };
  const get = async (ctx: ProjectionContext, id: string) => {
    if (!ctx.sql) return memory.get(id) ?? 0;
    const [a] = p(ctx, 1);
    const rows = await ctx.sql.all<{ n: number }>(`select n from ${name} where id = ${a}`, [id]);
    return Number(rows[0]?.n ?? 0);
  };
  return {
    name,
    memory,
    async apply(event: StoredAction, ctx: ProjectionContext) {
      const id = String(event.action.aggregate[1]);
      await set(ctx, id, (await get(ctx, id)) + 1);
    },
    async reset(aggregate: Identity, ctx: ProjectionContext) {
      await set(ctx, String(aggregate[1]), undefined);
    },
    async clear(ctx: ProjectionContext) {
      if (!ctx.sql) {
        memory.clear();
        return;
      }
      const text = ctx.sql.dialect === "mysql" ? "varchar(100)" : "text";
      await ctx.sql.run(`create table if not exists ${name} (id ${text} primary key, n integer not null)`);
      await ctx.sql.run(`delete from ${name}`);
    },
  };
}

/** The counts of {@link countingProjection}, by aggregate id. */
async function counts(store: Store, projection: ReturnType<typeof countingProjection>) {
  const out: Record<string, number> = {};
  await reader(store)(async (ctx) => {
    if (!ctx.sql) {
      for (const [id, n] of projection.memory) out[id] = n;
      return;
    }
    for (const r of await ctx.sql.all<{ id: string; n: number }>(`select id, n from ${projection.name}`))
      out[r.id] = Number(r.n);
  });
  return out;
}

/** Issue 5: projections with checkpoints kept by the store. */
export function testProjections(factory: StoreFactory): void {
  describe("projections", () => {
    for (const [form, fold] of FOLDS) {
      it(`a live projection (${form}) folds every aggregate as the store does, replays included, and ends at lag 0`, async () => {
        const store = await factory.create();
        const projection = fold("fold");
        await rebuildProjection(store, projection);
        const controller = new AbortController();
        const heads: number[] = [];
        let wake: (() => void) | undefined;
        const running = runProjection(store, projection, {
          signal: controller.signal,
          batchSize: 2,
          onCaughtUp: (h) => {
            heads.push(h);
            wake?.();
          },
        });
        for (const commit of history()) {
          await commitAll(store, [commit]);
          const head = await store.currentSeqNo();
          while (!heads.includes(head)) await new Promise<void>((r) => (wake = r));
        }
        controller.abort();
        await running;
        const model = await readModel(reader(store), projection.memory);
        expect(model.states).toEqual(await expectedStates(store));
        // Key 1 expired at 5: receipt 1 (3) replayed; key 2 at 8: receipt 2 (4) replayed, its new action 9 applied.
        expect(model.log).toEqual(["1", "2", "3", "4", "3 r", "6", "7", "4 r", "9"]);
        const [status] = await listProjections(store, "fold");
        expect(status).toMatchObject({ name: "fold", checkpoint: 9, head: 9, lag: 0 });
        if ("calls" in projection) {
          // Batches of at most 2; the replays of 8's batch (4) apart from its new action (9).
          expect(projection.calls.filter((c) => c.seqNos.length > 0)).toEqual(projection.calls);
          expect(projection.calls.flatMap((c) => c.seqNos.map((n) => `${n}${c.replay ? " r" : ""}`))).toEqual(
            model.log,
          );
          expect(projection.calls.slice(-2)).toEqual([
            { seqNos: [4], replay: true },
            { seqNos: [9], replay: false },
          ]);
        }
      });

      it(`restarted (${form}), it goes on from its checkpoint: each action applied once`, async () => {
        const store = await factory.create();
        const projection = fold("restart");
        await rebuildProjection(store, projection);
        const [first, second] = [history().slice(0, 4), history().slice(4)];
        await commitAll(store, first);
        await runUntilCaughtUp(store, projection);
        expect((await listProjections(store))[0]).toMatchObject({ name: "restart", checkpoint: 4, lag: 0 });
        await commitAll(store, second);
        expect((await listProjections(store, "restart"))[0]).toMatchObject({ checkpoint: 4, head: 9, lag: 5 });
        await runUntilCaughtUp(store, projection, 1);
        const model = await readModel(reader(store), projection.memory);
        expect(model.states).toEqual(await expectedStates(store));
        // One batch now, as one stream from offset 5 reads it: both expiries' replays first.
        expect(model.log).toEqual(["1", "2", "3", "4", "3 r", "4 r", "6", "7", "9"]);
        if ("calls" in projection) {
          // The first run's one call, then with batches of 1 one action per call, the replays marked.
          expect(projection.calls[0]).toEqual({ seqNos: [1, 2, 3, 4], replay: false });
          expect(projection.calls.slice(1)).toEqual([3, 4, 6, 7, 9].map((n) => ({ seqNos: [n], replay: n < 5 })));
        }
      });
    }

    it("applyBatch: an expired key replays the aggregates it links in one call, after their resets", async () => {
      const store = await factory.create();
      const projection = foldBatchProjection("shredded");
      const calls: string[] = [];
      const traced = {
        ...projection,
        async reset(aggregate: Identity, ctx: ProjectionContext) {
          calls.push(`reset ${aggregate[1]}`);
          await projection.reset?.(aggregate, ctx);
        },
        async applyBatch(events: readonly StoredAction[], ctx: ProjectionContext) {
          calls.push(`${ctx.replay ? "replay" : "apply"} ${events.map((e) => e.seqNo).join(",")}`);
          await projection.applyBatch(events, ctx);
        },
      };
      await rebuildProjection(store, traced);
      const key: Identity = ["encryption-key", 1];
      await commitAll(store, [
        [1, 2, 3].map((n) => act(["receipt", n], { assoc: { no: `R-${n}` } }, { triggers: [key] })),
        [1, 2, 3].map((n) => act(["receipt", n], { assoc: { total: n } })),
      ]);
      await runUntilCaughtUp(store, traced);
      await commitAll(store, [[eff(key), act(["receipt", 4], { assoc: { no: "R-4" } })]]);
      await runUntilCaughtUp(store, traced);
      expect(calls).toEqual(["apply 1,2,3,4,5,6", "reset 1", "reset 2", "reset 3", "replay 1,2,3,4,5,6", "apply 8"]);
      const model = await readModel(reader(store), projection.memory);
      expect(model.states).toEqual(await expectedStates(store));
    });

    it("lists projections by name in code-unit order on every store, whatever the collation", async () => {
      const store = await factory.create();
      const names = ["b", "a", "B", "\uFF01", "\u{1F600}", "\u00e9", "e", "a b", "a_b", "a-b", "\u00c9"];
      for (const name of names) await rebuildProjection(store, { name, apply() {}, clear() {} });
      const listed = (await listProjections(store)).map((p) => p.name);
      expect(listed).toEqual([...names].sort());
      for (const name of names) await deleteProjection(store, name);
    });

    it("rebuilt, it starts from scratch and ends with the same read model", async () => {
      const store = await factory.create();
      const projection = foldProjection("rebuild");
      await rebuildProjection(store, projection);
      await commitAll(store, history());
      await runUntilCaughtUp(store, projection);
      const before = await readModel(reader(store), projection.memory);
      await rebuildProjection(store, projection);
      expect((await listProjections(store, "rebuild"))[0]).toMatchObject({ checkpoint: 0, lag: 9 });
      expect(await readModel(reader(store), projection.memory)).toEqual({ states: {}, log: [] });
      await runUntilCaughtUp(store, projection);
      const after: ReadModelContents = await readModel(reader(store), projection.memory);
      expect(after.states).toEqual(before.states);
      // From scratch, the expiries since offset 1 replay nothing more: everything is new.
      expect(after.log).toEqual(["1", "2", "3", "4", "6", "7", "9"]);
    });

    it("a failing apply rejects the runner and keeps nothing of its batch; the restart applies it", async () => {
      const store = await factory.create();
      const projection = foldProjection("fails");
      await rebuildProjection(store, projection);
      await commitAll(store, history().slice(0, 4));
      const failing = {
        ...projection,
        apply: async (event: Parameters<typeof projection.apply>[0], ctx: ProjectionContext) => {
          await projection.apply(event, ctx);
          if (event.seqNo === 4) throw new Error("read model broke");
        },
      };
      await expect(runProjection(store, failing, { batchSize: 2 })).rejects.toThrow("read model broke");
      expect((await listProjections(store, "fails"))[0]).toMatchObject({ checkpoint: 2 });
      await runUntilCaughtUp(store, projection);
      const model = await readModel(reader(store), projection.memory);
      expect(model.states).toEqual(await expectedStates(store));
      if (factory.name !== "memory") expect(model.log).toEqual(["1", "2", "3", "4"]);
    });

    it("on abort, a runner waiting to start ends at once, and one applying a batch finishes it first (its failure is the runner's)", async () => {
      const store = await factory.create();
      const projection = foldProjection("hangs");
      await rebuildProjection(store, projection);
      await commitAll(store, history().slice(0, 2));
      // A batch whose apply waits on a server that stopped answering, holding the checkpoint's lock.
      let entered = false;
      let fail: (error: Error) => void = () => {};
      const gate = new Promise<never>((_, reject) => (fail = reject));
      const hanging = {
        ...projection,
        apply: async (event: Parameters<typeof projection.apply>[0], ctx: ProjectionContext) => {
          entered = true;
          await gate;
          await projection.apply(event, ctx);
        },
      };
      const first = new AbortController();
      let firstEnded = false;
      const running = runProjection(store, hanging, { signal: first.signal }).finally(() => (firstEnded = true));
      running.catch(() => {});
      while (!entered) await new Promise((resolve) => setTimeout(resolve, 5));
      // A second runner's start waits for that lock: its abort ends it at once, its start left to finish.
      const second = new AbortController();
      let secondEnded = false;
      const waiting = runProjection(store, projection, { signal: second.signal }).then(() => (secondEnded = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(secondEnded).toBe(false);
      second.abort();
      await waiting;
      // The first waits for its batch, whose failure it reports.
      first.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(firstEnded).toBe(false);
      fail(new Error("connection lost"));
      await expect(running).rejects.toThrow("connection lost");
      expect((await listProjections(store, "hangs"))[0]).toMatchObject({ checkpoint: 0 });
      await runUntilCaughtUp(store, projection);
      expect((await listProjections(store, "hangs"))[0]).toMatchObject({ checkpoint: 2 });
      const model = await readModel(reader(store), projection.memory);
      expect(model.states).toEqual(await expectedStates(store));
      if (factory.name !== "memory") expect(model.log).toEqual(["1", "2"]);
    });

    it("an abort ends the runner while an async onCaughtUp has not settled", async () => {
      const store = await factory.create();
      const projection = foldProjection("never-settles");
      await rebuildProjection(store, projection);
      await commitAll(store, history().slice(0, 1));
      const controller = new AbortController();
      let called = false;
      const running = runProjection(store, projection, {
        signal: controller.signal,
        onCaughtUp: () => {
          called = true;
          return new Promise(() => {});
        },
      });
      while (!called) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      await running;
      expect((await listProjections(store, "never-settles"))[0]).toMatchObject({ checkpoint: 1 });
    });

    it("awaits an async onCaughtUp, and its rejection rejects the runner", async () => {
      const store = await factory.create();
      const projection = foldProjection("async-caught-up");
      await rebuildProjection(store, projection);
      await commitAll(store, history().slice(0, 1));
      const calls: number[] = [];
      await expect(
        runProjection(store, projection, {
          onCaughtUp: async (head) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            calls.push(head);
            throw new Error("listener broke");
          },
        }),
      ).rejects.toThrow("listener broke");
      expect(calls).toEqual([1]);
    });

    it("two runners of one projection, and a rebuild while they run, apply no action twice", async () => {
      const store = await factory.create();
      const projection = foldProjection("twice");
      await rebuildProjection(store, projection);
      await commitAll(store, history());
      const head = await store.currentSeqNo();
      const controller = new AbortController();
      const runners = [1, 3].map((batchSize) =>
        runProjection(store, projection, {
          signal: controller.signal,
          batchSize,
          onCaughtUp: (h) => h >= head && controller.abort(),
        }),
      );
      await Promise.all(runners);
      const model = await readModel(reader(store), projection.memory);
      expect(model.states).toEqual(await expectedStates(store));
      const fresh = model.log.filter((e) => !e.endsWith(" r"));
      expect(fresh).toEqual(["1", "2", "3", "4", "6", "7", "9"]);
    });

    it("two runners while an effect replays an aggregate of more actions than a batch: each counted once after its reset", async () => {
      const store = await factory.create();
      const counter = countingProjection("counted");
      await rebuildProjection(store, counter);
      const actions = Array.from({ length: 250 }, (_, i) =>
        act(["account", 1], { assoc: { i } }, { triggers: [["key", 1]] }),
      );
      expect((await store.rebase(1, actions)).result).toBe("ok");
      const runBoth = async () => {
        const head = await store.currentSeqNo();
        const controller = new AbortController();
        const caughtUp = new Set<number>();
        await Promise.all(
          [0, 1].map((i) =>
            runProjection(store, counter, {
              signal: controller.signal,
              batchSize: 100,
              onCaughtUp: (h) => h >= head && caughtUp.add(i) && caughtUp.size === 2 && controller.abort(),
            }),
          ),
        );
      };
      await runBoth();
      expect(await counts(store, counter)).toEqual({ 1: 250 });
      // The effect replays all 250 in three batches that leave the checkpoint where it is.
      expect((await store.rebase(251, [eff(["key", 1])])).result).toBe("ok");
      await runBoth();
      expect(await counts(store, counter)).toEqual({ 1: 250 });
      expect((await listProjections(store, "counted"))[0]).toMatchObject({ checkpoint: 251 });
    });

    it("runners of a new projection started at once, each on its own connections, all run and share one checkpoint", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["book", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      // A store of the process (memory:, sqlite::memory:): its runners share it.
      const url = factory.shared ? factory.lastUrl : undefined;
      const stores = url === undefined ? [store, store, store, store] : [1, 2, 3, 4].map(() => openStore(url));
      try {
        await Promise.all(stores.map((s) => s.currentSeqNo()));
        for (let round = 0; round < 3; round++) {
          const applied: number[] = [];
          const controller = new AbortController();
          const caughtUp = new Set<number>();
          const runners = stores.map((s, i) =>
            runProjection(
              s,
              { name: `new-${round}`, apply: async (e) => void applied.push(e.seqNo) },
              {
                signal: controller.signal,
                onCaughtUp: () => caughtUp.add(i) && caughtUp.size === stores.length && controller.abort(),
              },
            ),
          );
          await Promise.all(runners);
          expect(applied).toEqual([1]);
          expect((await listProjections(store, `new-${round}`)).map((p) => p.checkpoint)).toEqual([1]);
        }
      } finally {
        if (url !== undefined) await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("rejects a bad projection or options with a ValidationError naming the field", async () => {
      const store = await factory.create();
      const ok = foldProjection("ok");
      const bad: [unknown, unknown, string][] = [
        [{ ...ok, name: "" }, undefined, "projection.name"],
        [{ ...ok, apply: 1 }, undefined, "projection.apply"],
        [{ ...ok, apply: undefined }, undefined, "projection.apply"],
        [{ ...ok, applyBatch: () => {} }, undefined, "projection.apply"],
        [{ ...ok, apply: undefined, applyBatch: 1 }, undefined, "projection.applyBatch"],
        [{ ...ok, reset: "x" }, undefined, "projection.reset"],
        [{ ...ok, kinds: [] }, undefined, "projection.kinds"],
        // Misspelled optional members would filter nothing or never be called.
        [{ ...ok, kind: ["book"] }, undefined, "projection.kind"],
        [{ ...ok, Kinds: ["book"] }, undefined, "projection.Kinds"],
        [{ ...ok, kind: "book" }, undefined, "projection.kind"],
        [{ ...ok, aggregate: [["book", 1]] }, undefined, "projection.aggregate"],
        [{ ...ok, rest() {} }, undefined, "projection.rest"],
        [{ ...ok, claer() {} }, undefined, "projection.claer"],
        [null, undefined, "projection"],
        [ok, { batchSize: 0 }, "options.batchSize"],
        [ok, { signal: 1 }, "options.signal"],
      ];
      for (const [projection, options, path] of bad) {
        await expect(runProjection(store, projection as never, options as never)).rejects.toMatchObject({
          name: "ValidationError",
          path,
        });
      }
      expect(await listProjections(store)).toEqual([]);
      await expect(runProjection(store, { ...ok, kind: ["book"] } as never)).rejects.toThrow(
        'a projection has no "kind": did you mean kinds?',
      );
      await expect(runProjection(store, { ...ok, apply: undefined, applyBacth() {} } as never)).rejects.toThrow(
        "a projection has apply(event, ctx), or applyBatch(events, ctx) in its place: got neither",
      );
      // Members of the projection's own are fine, near a member's name or not, when not shaped like it.
      const controller = new AbortController();
      const own = {
        ...ok,
        kindName: "book",
        aggregateCount: 3,
        resets: 0,
        db: {},
        clearing: false,
        ids: ["a"],
        reject: () => {},
      };
      await runProjection(store, own, { signal: controller.signal, onCaughtUp: () => controller.abort() });
      // A class's misspelled method, and a getter of its own that is never run.
      class Titles {
        readonly name = "titles";
        apply() {}
        rest() {}
      }
      await expect(runProjection(store, new Titles())).rejects.toMatchObject({ path: "projection.rest" });
      const lazy = {
        ...ok,
        get db(): never {
          throw new Error("not connected yet");
        },
      };
      await runProjection(store, lazy, { signal: AbortSignal.abort() });
      expect((await listProjections(store)).map((p) => p.name)).toEqual(["ok"]);
    });
  });
}
