/**
 * A quick look at one write workload on one store, for the edit-measure loop
 * (`npx tsx bench/quick.ts <store> <per> [actions]`, or `<store> w4 [seconds] [warm-up seconds]`):
 * store and baseline alternate as in `npm run bench`, on a fresh database
 * dropped afterwards.
 */
import { sizesFor } from "./config.js";
import { createTarget, rawClient } from "./targets.js";
import { type BenchContext, contentionWorkload, streamWorkload, writeWorkload } from "./workloads.js";

const [name = "sqlite", per = "1", third, warmup] = process.argv.slice(2);
const full = sizesFor("full");
/** A number argument, or `fallback` when it is absent; anything else stops the run. */
const numberArg = (text: string | undefined, fallback: number, what: string): number => {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what} must be a number of at least 0, got ${text}`);
  return n;
};
const sizes = {
  ...full,
  // W4 takes seconds as its third argument, the write workloads a number of actions.
  actions: per === "w4" ? full.actions : numberArg(third, 3000, "actions"),
  seconds: per === "w4" ? numberArg(third, full.seconds, "seconds") : full.seconds,
  warmup: numberArg(warmup, full.warmup, "warm-up seconds"),
};
const target = await createTarget(name);
const raw = await rawClient(target.url);
const ctx: BenchContext = { url: target.url, raw, sizes, log: console.log };
try {
  if (per === "w4") {
    const w4 = await contentionWorkload(ctx, "q4");
    console.log(
      `${name} W4: ${Math.round(w4.committed)} committed/s, ${Math.round(w4.conflicts)} conflicts/s, raw ${Math.round(w4.raw)}/s, ratio ${w4.ratio.toFixed(2)}; raw under one lock ${Math.round(w4.rawSerialized)}/s (${(w4.rawSerialized / w4.raw).toFixed(2)} of raw); writers' CPU per transaction ${w4.cpuMs.store.toFixed(3)} / ${w4.cpuMs.raw.toFixed(3)} / ${w4.cpuMs.rawSerialized.toFixed(3)} ms`,
    );
  }
  for (let run = 0; run < (per === "w4" ? 0 : 3); run++) {
    const w = await writeWorkload(ctx, `q${run}`, Number(per), run % 2 === 0);
    const s = await streamWorkload(w);
    console.log(
      `${name} per=${per}: store ${Math.round(w.events.store)}/s raw ${Math.round(w.events.raw)}/s ratio ${w.events.ratio.toFixed(2)}; stream ${Math.round(s.store)}/s raw ${Math.round(s.raw)}/s ratio ${s.ratio.toFixed(2)}`,
    );
    await w.store.close();
  }
} finally {
  await raw.close();
  await target.drop();
}
