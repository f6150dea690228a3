import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../src/index.js";
import { type StoreFactory, storesNamed } from "./stores.js";
import { type Child, kill, startChild } from "./support/child.js";
import { act, collect } from "./support/events.js";

/** Events per rebase of a crash writer: the largest history the default limits allow. */
const BATCH = 10_000;
/** Rounds of killing per store; each round kills two concurrent writers at random moments. */
const ROUNDS = 3;
/** Child processes, 10,000-event batches and a loaded CI machine: well past the default 60 s. */
const TIMEOUT_MS = 240_000;

interface Batch {
  readonly seqNos: number[];
}

/**
 * Reads what was committed since `from` and checks it: seqNos `from..head`
 * without a gap, and every batch of a crash writer whole (`BATCH` actions with
 * consecutive seqNos) or absent. Returns the batches by `writer/k`.
 */
async function committedSince(store: Store, from: number): Promise<{ head: number; batches: Map<string, Batch> }> {
  const head = await store.currentSeqNo();
  const events = await collect(store.stream({ offset: from }));
  expect(events.map((e) => e.seqNo)).toEqual(Array.from({ length: head - from + 1 }, (_, i) => from + i));
  const batches = new Map<string, Batch>();
  for (const e of events) {
    if (e.action.aggregate[0] !== "crash") continue;
    const key = `${e.source}/${e.action.reason.slice("batch-".length)}`;
    const b = batches.get(key) ?? { seqNos: [] };
    b.seqNos.push(e.seqNo);
    batches.set(key, b);
  }
  for (const [key, b] of batches) {
    expect(b.seqNos.length, `batch ${key}`).toBe(BATCH);
    expect(b.seqNos.at(-1), `batch ${key} is consecutive`).toBe((b.seqNos[0] as number) + BATCH - 1);
  }
  return { head, batches };
}

/** Batch numbers a writer reported as committed. */
function acknowledged(child: Child): number[] {
  return child.lines.filter((l) => l.startsWith("done ")).map((l) => Number(l.split(" ")[1]));
}

/** True when the writer had started a batch it had not reported committed. */
function inFlight(child: Child): boolean {
  const last = child.lines.at(-1);
  return last?.startsWith("start ") ?? false;
}

function testCrashSafety(factory: StoreFactory): void {
  describe(`crash safety: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it(
      `writers killed (SIGKILL) at random moments of ${BATCH}-event rebases leave whole batches only, and the store stays usable, gapless`,
      async () => {
        const store = await factory.create();
        const url = factory.lastUrl as string;

        // How long one batch takes here, so that kills land all over it (commit included).
        const probe = startChild("crash-writer.ts", [url, String(BATCH), "warmup"]);
        await probe.waitFor(/^start 1$/);
        const t0 = Date.now();
        await probe.waitFor(/^done 1 /, 60_000);
        const batchMs = Date.now() - t0;
        await kill(probe);
        let { head } = await committedSince(store, 1);

        let killedInFlight = 0;
        let slowestProbe = 0;
        const delays: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const writers = [`a${round}`, `b${round}`].map((tag) =>
            startChild("crash-writer.ts", [url, String(BATCH), tag]),
          );
          await Promise.all(writers.map((w) => w.waitFor(/^start 1$/)));
          for (const w of writers) {
            const delay = Math.round(Math.random() * 2.5 * batchMs);
            delays.push(delay);
            await sleep(delay);
            if (inFlight(w)) killedInFlight++;
            await kill(w);
          }

          // Another process (this one) writes at once: no lock of the dead writers is left.
          const start = Date.now();
          const r = await store.rebase(head + 1, [act(["probe", round])]);
          slowestProbe = Math.max(slowestProbe, Date.now() - start);
          expect(r.result).toBe("ok");

          const seen = await committedSince(store, head + 1);
          for (const w of writers) {
            const tag = w.process.spawnargs.at(-1);
            for (const k of acknowledged(w))
              expect(seen.batches.has(`${tag}/${k}`), `acknowledged ${tag}/${k}`).toBe(true);
          }
          expect(r.result === "ok" && r.events[0]?.seqNo).toBeLessThanOrEqual(seen.head);
          head = seen.head;
        }
        // The test means something only if kills hit rebases in flight.
        expect(killedInFlight).toBeGreaterThan(0);
        // A dead writer's lock is released by the database at once (SQLite: the OS drops the file lock;
        // servers: the session ends with its socket), not after a timeout; a killed writer's statement
        // that the server had begun may still run to its end (a batch's time).
        expect(slowestProbe).toBeLessThan(5_000 + 3 * batchMs);
        console.info(
          `${factory.name}: batch of ${BATCH} in ${batchMs} ms, ${killedInFlight}/${delays.length} kills in flight, ` +
            `delays ${delays.join(",")} ms, slowest write after a kill ${slowestProbe} ms, head ${head}`,
        );
      },
      TIMEOUT_MS,
    );
  });
}

// The memory store lives in one process: nothing of it survives a kill to check.
for (const factory of storesNamed("sqlite", "postgres", "mysql")) testCrashSafety(factory);
