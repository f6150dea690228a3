import { afterAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../src/index.js";
import { type StoreFactory, storesNamed } from "./stores.js";
import { startChild } from "./support/child.js";
import { act } from "./support/events.js";

const WRITERS = 4;
const DURATION_MS = 3000;
const AGGREGATES = 6;

interface Ok {
  result: "ok";
  base: number;
  resolved: number[];
  seqNos: number[];
  tags: string[];
}
type Line = Ok | { result: "conflict" } | { result: "write-conflict" | "invalid-seq-no" | "threw"; error: string };

/** Every stored event, by seqNo: each aggregate's conflicts since 1 are its actions and the effects on its trigger. */
async function everything(store: Awaited<ReturnType<StoreFactory["create"]>>): Promise<Map<number, StoredEvent>> {
  const all = new Map<number, StoredEvent>();
  for (let a = 0; a < AGGREGATES; a++) {
    for (const e of await store.conflicts(1, ["agg", a])) all.set(e.seqNo, e);
  }
  return all;
}

function aggregateOf(e: StoredEvent): number | undefined {
  return "action" in e ? (e.action.aggregate[1] as number) : undefined;
}

function testConcurrentWriters(factory: StoreFactory): void {
  describe(`concurrent writers (SPEC 2, rule 5): ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it(`${WRITERS} processes rebasing on ${AGGREGATES} shared aggregates for ${DURATION_MS} ms: seqNos 1..head, each acknowledged event once where it was told, nothing else, no unresolved conflict passed`, async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      // Every aggregate carries its key from the start, so every effect shows among some aggregate's conflicts.
      const setup = Array.from({ length: AGGREGATES }, (_, a) =>
        act(["agg", a], { assoc: { a } }, { triggers: [["key", a]], source: "setup" }),
      );
      expect((await store.rebase(1, setup)).result).toBe("ok");

      const children = Array.from({ length: WRITERS }, (_, w) =>
        startChild("concurrent-writer.ts", [url, String(w), String(DURATION_MS), String(AGGREGATES)]),
      );
      const exits = await Promise.all(children.map((c) => c.exited));
      const lines = children.flatMap((c) => c.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Line));
      for (const [w, exit] of exits.entries()) expect(exit.code, `writer ${w}: ${exit.stderr}`).toBe(0);
      // No rebase threw, none was refused for concurrency (the write lock serializes), none was beyond the head.
      expect(lines.filter((l) => l.result !== "ok" && l.result !== "conflict")).toEqual([]);

      const oks = lines.filter((l): l is Ok => l.result === "ok");
      const conflicts = lines.filter((l) => l.result === "conflict").length;
      const head = await store.currentSeqNo();
      const stored = await everything(store);

      // Exactly 1..head.
      expect([...stored.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      // Every acknowledged event at the seqNo it was given; together with the setup, they are all there is.
      const acknowledged = new Map<number, string>();
      for (const ok of oks) {
        for (const [i, s] of ok.seqNos.entries()) acknowledged.set(s, ok.tags[i] as string);
      }
      expect(acknowledged.size).toBe(oks.reduce((n, ok) => n + ok.seqNos.length, 0));
      for (const [seqNo, e] of stored) {
        expect(e.source, `seqNo ${seqNo}`).toBe(seqNo <= AGGREGATES ? "setup" : acknowledged.get(seqNo));
      }
      expect(head).toBe(AGGREGATES + acknowledged.size);

      // No committed action passed an event on its aggregate between its base and its batch that it had not resolved.
      for (const ok of oks) {
        const first = ok.seqNos[0] as number;
        for (const seqNo of ok.seqNos) {
          const a = aggregateOf(stored.get(seqNo) as StoredEvent);
          if (a === undefined) continue;
          for (let s = ok.base; s < first; s++) {
            if (ok.resolved.includes(s)) continue;
            const e = stored.get(s) as StoredEvent;
            const hits = "action" in e ? aggregateOf(e) === a : e.effect.trigger[1] === a;
            expect(hits, `seqNo ${seqNo} (base ${ok.base}) passed unresolved ${s}`).toBe(false);
          }
        }
      }

      // The run means something only if writers collided and resolved.
      expect(oks.length).toBeGreaterThan(WRITERS);
      expect(conflicts).toBeGreaterThan(0);
      expect(oks.some((ok) => ok.resolved.length > 0)).toBe(true);
      console.info(
        `${factory.name}: ${oks.length} rebases committed (${acknowledged.size} events), ${conflicts} conflicts resolved, head ${head}`,
      );
    });
  });
}

// A memory store lives in one process.
for (const factory of storesNamed("sqlite", "postgres", "mysql")) testConcurrentWriters(factory);
