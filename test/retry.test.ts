import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../src/index.js";
import { type StoreFactory, storesNamed } from "./stores.js";
import { kill, startChild } from "./support/child.js";
import { collect } from "./support/events.js";
import { idBatch } from "./support/id-batch.js";

const SIZE = 2_000;
const ROUNDS = 3;

/** The seqNos of the actions a batch with this id wrote, in order. */
async function written(store: Store, id: string): Promise<number[]> {
  const all = await collect(store.stream());
  return all.filter((e) => e.action.reason === id).map((e) => e.seqNo);
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

function testRetries(factory: StoreFactory): void {
  describe(`idempotent retries across processes: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("a client killed before or after its commit retries with the same id from another process: one write, the original seqNos", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      let committedBeforeKill = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const id = `order-${round}`;
        const head = await store.currentSeqNo();
        const child = startChild("id-writer.ts", [url, String(SIZE), id]);
        await child.waitFor(/^start$/);
        // The connection drops somewhere between sending and hearing back.
        await sleep(Math.random() * 400);
        await kill(child);
        const before = await written(store, id);
        if (before.length > 0) committedBeforeKill++;
        expect([0, SIZE]).toContain(before.length);

        const retry = await store.rebase(head + 1, idBatch(id, SIZE), { id });
        expect(retry.result).toBe("ok");
        const seqNos = retry.result === "ok" ? retry.events.map((e) => e.seqNo) : [];
        expect(seqNos).toEqual(range(head + 1, SIZE));
        expect(await written(store, id)).toEqual(seqNos);
        expect(await store.currentSeqNo()).toBe(head + SIZE);
        // And again: still nothing new.
        expect(await store.rebase(head + 1, idBatch(id, SIZE), { id })).toEqual(retry);
        expect(await store.currentSeqNo()).toBe(head + SIZE);
      }
      console.info(`${factory.name}: ${committedBeforeKill}/${ROUNDS} killed clients had committed before they died`);
    });

    it("the same id sent by two processes at once is written once; both get the same seqNos", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      for (let round = 0; round < 2; round++) {
        const id = `race-${round}`;
        const head = await store.currentSeqNo();
        const racers = [0, 1].map(() => startChild("id-writer.ts", [url, String(SIZE), id]));
        const results = await Promise.all(racers.map((c) => c.waitFor(/^result /, 60_000)));
        await Promise.all(racers.map((c) => c.exited));
        const expected = `result ${JSON.stringify(range(head + 1, SIZE))}`;
        expect(results).toEqual([expected, expected]);
        expect(await written(store, id)).toEqual(range(head + 1, SIZE));
        expect(await store.currentSeqNo()).toBe(head + SIZE);
      }
    });
  });
}

// Processes share nothing of a memory store.
for (const factory of storesNamed("sqlite", "postgres", "mysql")) testRetries(factory);
