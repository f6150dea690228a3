import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { EventStore } from "../src/event-store.js";
import { type FollowStep, followSteps } from "../src/follow/follow-steps.js";
import {
  deleteProjection,
  type Identity,
  listProjections,
  type ProjectionContext,
  rebuildProjection,
  runProjection,
  type Store,
  type StoredAction,
} from "../src/index.js";
import { storesNamed } from "./stores.js";
import { kill, startChild } from "./support/child.js";
import { act, eff } from "./support/events.js";
import { expectedStates, foldProjection, readModel } from "./support/read-model.js";

const WRITERS = 3;
const COMMITS = 60;

const keyOf = (a: Identity) => JSON.stringify(a);

/**
 * The model of SPEC section 3 over the final store: for a batch `(after, head]`,
 * the actions `stream({ offset: after + 1 })` yields while the head is `head`.
 */
async function modelOf(store: Store) {
  const actions: StoredAction[] = [];
  for await (const e of store.stream()) actions.push(e);
  // Every effect on a trigger that some action carries, found through conflicts().
  const effects = new Map<number, string>();
  for (const e of actions) {
    for (const c of await store.conflicts(1, e.action.aggregate))
      if ("effect" in c && c.effect !== undefined) effects.set(c.seqNo, keyOf(c.effect.trigger));
  }
  return {
    actions,
    batch(after: number, head: number): StoredAction[] {
      // What the store held at `head`: the triggers each aggregate's actions carried then.
      const carried = new Map<string, Set<string>>();
      for (const a of actions) {
        if (a.seqNo > head) break;
        const set = carried.get(keyOf(a.action.aggregate)) ?? new Set<string>();
        for (const t of a.triggers ?? []) set.add(keyOf(t));
        carried.set(keyOf(a.action.aggregate), set);
      }
      const expired = new Set([...effects].filter(([s]) => s > after && s <= head).map(([, t]) => t));
      return actions.filter((a) => {
        if (a.seqNo > after) return a.seqNo <= head;
        return [...(carried.get(keyOf(a.action.aggregate)) ?? [])].some((t) => expired.has(t));
      });
    },
  };
}

function reader(store: Store) {
  return async (work: (ctx: ProjectionContext) => Promise<void>) => {
    await rebuildProjection(store, { name: "test-reader", apply() {}, clear: work });
    await deleteProjection(store, "test-reader");
  };
}

for (const factory of storesNamed("sqlite", "postgres", "mysql")) {
  describe(`processes: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it(`a follower started before ${WRITERS} writer processes sees every action once, in order, with the replays, and catches up`, async () => {
      const store = (await factory.create()) as EventStore;
      const url = factory.lastUrl as string;
      const controller = new AbortController();
      const steps: FollowStep[] = [];
      const seen: StoredAction[] = [];
      const caughtUp: number[] = [];
      const stepping = (async () => {
        for await (const step of followSteps(store.backend, { signal: controller.signal }, 50, () => {}))
          steps.push(step);
      })();
      const following = (async () => {
        const onCaughtUp = (h: number) => caughtUp.push(h);
        for await (const e of store.follow({ signal: controller.signal, onCaughtUp })) seen.push(e);
      })();
      const writers = Array.from({ length: WRITERS }, (_, w) =>
        startChild("follow-writer.ts", [url, `w${w}`, `${COMMITS}`]),
      );
      for (const w of writers) {
        const { code, stderr } = await w.exited;
        expect(code, stderr).toBe(0);
      }
      const head = await store.currentSeqNo();
      while (!caughtUp.includes(head) || !steps.some((s) => s.type === "caught-up" && s.head === head)) await sleep(10);
      controller.abort();
      await Promise.all([stepping, following]);

      const model = await modelOf(store);
      // Batch by batch, the follower yields exactly what the stream over that head yields.
      let after = 0;
      let batch: StoredAction[] = [];
      for (const step of steps) {
        if (step.type === "action") batch.push(step.event);
        else if (step.type === "batch") {
          expect(batch).toEqual(model.batch(after, step.head));
          after = step.head;
          batch = [];
        }
      }
      expect(after).toBe(head);
      // The public follower: every action once, in seqNo order, and nothing else but replays.
      const fresh = seen.filter((e, i) => seen.slice(0, i).every((p) => p.seqNo < e.seqNo));
      expect(fresh).toEqual(model.actions);
      expect(seen.length).toBeGreaterThan(fresh.length);
      expect(caughtUp.at(-1)).toBe(head);
    }, 120_000);

    it("a projection process killed with SIGKILL at random points and restarted ends with the read model of an uninterrupted run", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      const killed = foldProjection("killed", "killed");
      await rebuildProjection(store, killed);
      const write = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const k = Math.floor(Math.random() * 1000);
          const events =
            k % 9 === 0
              ? [eff(["key", k % 4])]
              : [act(["account", k % 13], { assoc: { [`f${k % 5}`]: k } }, { triggers: [["key", k % 4]] })];
          await store.rebase((await store.currentSeqNo()) + 1, events);
        }
      };
      await write(150);
      const checkpoint = async () => (await listProjections(store, "killed"))[0]?.checkpoint ?? 0;
      let midway = 0;
      for (let round = 0; round < 6; round++) {
        const child = startChild("projection-runner.ts", [url, "killed", "killed", `${1 + (round % 3) * 4}`, "2"]);
        await child.waitFor(/^start$/);
        const before = await checkpoint();
        const writing = write(25);
        // Killed at a random point once it is at work (on a loaded machine its start, connecting and
        // reading its checkpoint, can outlast any fixed delay): in even rounds once it has committed
        // a batch, in odd ones once it applies its first action, often in the middle of a replay
        // (replays leave the checkpoint where it is).
        if (round % 2 === 0)
          await vi.waitFor(async () => expect(await checkpoint()).toBeGreaterThan(before), {
            timeout: 30_000,
            interval: 10,
          });
        else await child.waitFor(/^applying$/);
        await sleep(Math.random() * 300);
        await kill(child);
        await writing;
        if ((await checkpoint()) < (await store.currentSeqNo())) midway++;
      }
      // The kills landed while the runner was at work, not after it was done.
      expect(midway).toBeGreaterThan(0);
      const head = await store.currentSeqNo();
      const last = startChild("projection-runner.ts", [url, "killed", "killed", "7"]);
      await last.waitFor(new RegExp(`^caught-up ${head}$`), 60_000);
      await kill(last);

      const uninterrupted = foldProjection("whole", "whole");
      await rebuildProjection(store, uninterrupted);
      const controller = new AbortController();
      await runProjection(store, uninterrupted, {
        signal: controller.signal,
        onCaughtUp: (h) => h >= head && controller.abort(),
      });
      const a = await readModel(reader(store), killed.memory, "killed");
      const b = await readModel(reader(store), uninterrupted.memory, "whole");
      expect(a.states).toEqual(b.states);
      expect(a.states).toEqual(await expectedStates(store));
      // Exactly once: each action applied once as new, whatever the kills.
      const fresh = a.log.filter((e) => !e.endsWith(" r"));
      expect(fresh).toEqual(b.log.filter((e) => !e.endsWith(" r")));
      expect(new Set(fresh).size).toBe(fresh.length);
      expect((await listProjections(store, "killed"))[0]).toMatchObject({ checkpoint: head, lag: 0 });
    }, 180_000);
  });
}
