import { openStore, ValidationError } from "../src/index.js";
import type { Sizes } from "./config.js";
import { createTarget, rawClient } from "./targets.js";
import {
  aggregateWorkload,
  type BenchContext,
  bigStreamWorkload,
  buildBig,
  type Contention,
  contentionWorkload,
  latencyWorkload,
  medianPair,
  type Pair,
  reopenW1,
  streamWorkload,
  W1_FIRST,
  writeWorkload,
} from "./workloads.js";

/** Every figure of one store's bench run. */
export interface StoreResult {
  readonly store: string;
  readonly database: string;
  /** Events per second (W1, W2), actions per second (streams, aggregate state). */
  readonly w1: Pair;
  readonly w2: Pair;
  readonly stream: Pair;
  readonly aggregate: Pair;
  readonly bigBuild: Pair;
  readonly bigStream: Pair & { readonly storeMaxRssMB: number; readonly rawMaxRssMB: number };
  /** Milliseconds of a one-action rebase (median), with `small` and with `big` events stored. */
  readonly latency: {
    readonly smallMs: number;
    readonly bigMs: number;
    readonly growth: number;
    readonly rawSmallMs: number;
    readonly rawBigMs: number;
  };
  readonly w4: Contention;
  readonly wallSeconds: number;
}

/** True when `openStore` knows the URL's scheme (the server stores arrive as their dialects land). */
export function supported(url: string): boolean {
  try {
    void openStore(url)
      .close()
      .catch(() => {});
    return true;
  } catch (error) {
    if (error instanceof ValidationError && error.code === "invalid-url") return false;
    return true;
  }
}

/** Runs every workload on a fresh database of one store, then drops it. */
export async function benchStore(name: string, sizes: Sizes, log: (line: string) => void): Promise<StoreResult> {
  const started = performance.now();
  const target = await createTarget(name);
  // An interrupted run still drops its database (or file).
  const interrupted = () => {
    void target.drop().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const raw = await rawClient(target.url);
  const ctx: BenchContext = { url: target.url, raw, sizes, log };
  const f = (p: Pair) => `${Math.round(p.store)}/s vs raw ${Math.round(p.raw)}/s = ${p.ratio.toFixed(2)}`;
  try {
    const database = await raw.version();
    const w1: Pair[] = [];
    const w2: Pair[] = [];
    const streams: Pair[] = [];
    const aggregates: Pair[] = [];
    for (let run = 0; run < sizes.runs; run++) {
      const one = await writeWorkload(ctx, run === 0 ? W1_FIRST : `w1r${run}`, 1, run % 2 === 0);
      w1.push(one.events);
      log(`${name} W1 run ${run + 1}: ${f(one.events)}`);
      streams.push(await streamWorkload(one));
      log(`${name} W3 stream ${sizes.actions}: ${f(streams[streams.length - 1] as Pair)}`);
      await one.store.close();
      const two = await writeWorkload(ctx, `w2r${run}`, sizes.batch, run % 2 === 1);
      w2.push(two.events);
      log(`${name} W2 run ${run + 1}: ${f(two.events)}`);
      aggregates.push(await aggregateWorkload(ctx, two));
      log(`${name} W3 aggregate of ${sizes.aggregateActions}: ${f(aggregates[aggregates.length - 1] as Pair)}`);
      await two.store.close();
    }
    const big = await buildBig(ctx);
    log(`${name} built ${sizes.big}: ${f(big.events)}`);
    // The bulk load's dirty pages are flushed first: else both the store's and the baseline's commits wait behind that flush.
    await ctx.raw.settle?.();
    // Timed in turns with the store of W1's first run (its 10,000 actions), as the machine is now.
    const small = reopenW1(ctx);
    const timed = await latencyWorkload(ctx, small, big);
    const latency = { ...timed, growth: timed.bigMs / timed.smallMs };
    await small.store.close();
    await big.store.close();
    const bigStreams = [];
    for (let run = 0; run < sizes.bigRuns; run++) {
      const s = await bigStreamWorkload(ctx, run % 2 === 0);
      bigStreams.push(s);
      log(`${name} W3 stream ${sizes.big}: ${f(s.events)}, peak RSS ${Math.round(s.storeMaxRssMB)} MB`);
    }
    log(
      `${name} one-action rebase: ${latency.smallMs.toFixed(3)} ms at ${sizes.actions}, ${latency.bigMs.toFixed(3)} ms at ${sizes.big}`,
    );
    const w4 = await contentionWorkload(ctx, "w4");
    log(
      `${name} W4: ${Math.round(w4.committed)} committed/s, ${Math.round(w4.conflicts)} conflicts/s vs raw ${Math.round(w4.raw)}/s = ${w4.ratio.toFixed(2)}; raw under one lock ${Math.round(w4.rawSerialized)}/s; writers' CPU per transaction ${w4.cpuMs.store.toFixed(2)} / ${w4.cpuMs.raw.toFixed(2)} / ${w4.cpuMs.rawSerialized.toFixed(2)} ms${w4.rawWriteConflicts > 0 ? ` (raw busy timeouts ${w4.rawWriteConflicts.toFixed(2)}/s)` : ""}`,
    );
    return {
      store: name,
      database,
      w1: medianPair(w1),
      w2: medianPair(w2),
      stream: medianPair(streams),
      aggregate: medianPair(aggregates),
      bigBuild: big.events,
      bigStream: {
        ...medianPair(bigStreams.map((s) => s.events)),
        storeMaxRssMB: Math.max(...bigStreams.map((s) => s.storeMaxRssMB)),
        rawMaxRssMB: Math.max(...bigStreams.map((s) => s.rawMaxRssMB)),
      },
      latency,
      w4,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await raw.close();
    await target.drop();
  }
}
