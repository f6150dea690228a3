import { type Json, type NewAction, openStore, type Store, type TableNames } from "../src/index.js";
import { applyPatchUnchecked } from "../src/model/apply-patch.js";
import type { ChildResult } from "./child.js";
import { runChildren } from "./children.js";
import type { Sizes } from "./config.js";
import { benchAction, chunked, rawRow } from "./events.js";
import type { RawClient } from "./raw/raw-client.js";
import { RawDb } from "./raw/raw-db.js";
import { median, seconds } from "./stats.js";

/** Where and how big a bench run is. */
export interface BenchContext {
  readonly url: string;
  readonly raw: RawClient;
  readonly sizes: Sizes;
  log(line: string): void;
}

/** A figure of the store beside the raw-SQL baseline's (higher is better), and their ratio. */
export interface Pair {
  readonly store: number;
  readonly raw: number;
  readonly ratio: number;
}

/** Turns store and baseline take in a write workload. */
const SLICES = 10;

/**
 * Alternating passes of a read workload; each side's figure is its median
 * pass. A pass takes milliseconds, so on a shared machine one slow pass
 * moved a total of 5 by a third.
 */
const PASSES = 15;

/** Rows per page of the baseline's keyset stream: the store's own page size. */
export const RAW_PAGE = 2000;

function pair(store: number, raw: number): Pair {
  return { store, raw, ratio: store / raw };
}

/** The medians of repeated pairs. */
export function medianPair(pairs: readonly Pair[]): Pair {
  return pair(median(pairs.map((p) => p.store)), median(pairs.map((p) => p.raw)));
}

/** Table names of a store made for one workload run, so each run starts empty in the same database. */
export function tablesFor(tag: string): TableNames {
  return { event: `${tag}_events`, action: `${tag}_actions`, effect: `${tag}_effects`, trigger: `${tag}_triggers` };
}

async function freshStore(ctx: BenchContext, tag: string): Promise<Store> {
  const store = openStore(ctx.url, { tables: tablesFor(tag) });
  await store.initSchema();
  return store;
}

async function freshRaw(ctx: BenchContext, tag: string): Promise<RawDb> {
  const raw = new RawDb(ctx.raw, `${tag}_raw`);
  await raw.drop();
  await raw.create();
  return raw;
}

/** Rebases histories one after the other, each on the base its writer last saw (the end of its last write). */
export async function rebaseAll(store: Store, histories: readonly NewAction[][]): Promise<void> {
  let base = (await store.currentSeqNo()) + 1;
  for (const history of histories) {
    const r = await store.rebase(base, history);
    if (r.result !== "ok") throw new Error(`bench rebase failed: ${r.result}`);
    base = (r.events[r.events.length - 1]?.seqNo ?? 0) + 1;
  }
}

async function insertAll(raw: RawDb, histories: readonly NewAction[][]): Promise<void> {
  const rows = histories.map((h) => h.map(rawRow));
  for (const batch of rows) await raw.insert(batch);
}

/** A store and a baseline table written by {@link writeWorkload}, for the reads that follow. */
export interface Written {
  readonly events: Pair;
  readonly store: Store;
  readonly raw: RawDb;
}

/** W1 (`per` = 1) and W2 (`per` = 100): the workload's actions in rebases of `per`, beside raw transactions of as many rows. */
export async function writeWorkload(
  ctx: BenchContext,
  tag: string,
  per: number,
  storeFirst: boolean,
): Promise<Written> {
  const { actions, aggregates } = ctx.sizes;
  const histories = chunked(
    Array.from({ length: actions }, (_, i) => benchAction(i, aggregates)),
    per,
  );
  const store = await freshStore(ctx, tag);
  const raw = await freshRaw(ctx, tag);
  // Store and baseline take turns in slices, so a load that comes and goes on the machine hits both alike.
  const slices = chunked(histories, Math.ceil(histories.length / SLICES));
  let storeSeconds = 0;
  let rawSeconds = 0;
  for (const slice of slices) {
    const timeStore = async () => {
      storeSeconds += await seconds(() => rebaseAll(store, slice));
    };
    const timeRaw = async () => {
      rawSeconds += await seconds(() => insertAll(raw, slice));
    };
    if (storeFirst) await timeStore().then(timeRaw);
    else await timeRaw().then(timeStore);
  }
  return { events: pair(actions / storeSeconds, actions / rawSeconds), store, raw };
}

/** W3: every action streamed through `stream()`, beside the baseline's keyset pages; actions per second. */
export async function streamWorkload(written: Written): Promise<Pair> {
  const store: number[] = [];
  const raw: number[] = [];
  // Alternating passes, so a load that comes and goes on the machine hits both alike.
  for (let pass = 0; pass < PASSES; pass++) {
    let count = 0;
    const storeSeconds = await seconds(async () => {
      for await (const _ of written.store.stream()) count++;
    });
    let rawCount = 0;
    const rawSeconds = await seconds(async () => {
      rawCount = await written.raw.stream(RAW_PAGE);
    });
    if (count !== rawCount) throw new Error(`streamed ${count} actions, the baseline ${rawCount}`);
    store.push(count / storeSeconds);
    raw.push(rawCount / rawSeconds);
  }
  return pair(median(store), median(raw));
}

/** W3: the state of one aggregate with `aggregateActions` actions, beside a raw SELECT of its patches folded alike; actions per second. */
export async function aggregateWorkload(ctx: BenchContext, written: Written): Promise<Pair> {
  const n = ctx.sizes.aggregateActions;
  const hot = Array.from({ length: n }, (_, i) => benchAction(i, 1, "hot"));
  const histories = chunked(hot, ctx.sizes.batch);
  await rebaseAll(written.store, histories);
  await insertAll(written.raw, histories);
  const store: number[] = [];
  const raw: number[] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    const storeSeconds = await seconds(async () => {
      const state = await written.store.aggregate(["account", "hot"]);
      if (state === undefined) throw new Error("the hot aggregate has no state");
    });
    const rawSeconds = await seconds(async () => {
      let state: { [key: string]: Json } = {};
      const patches = await written.raw.patches("account", JSON.stringify("hot"));
      // The fold the store's aggregate() runs, without the checks and copy of the public applyPatch.
      for (const p of patches) state = applyPatchUnchecked(state, p as never);
      if (patches.length !== n) throw new Error(`the baseline folded ${patches.length} patches`);
    });
    store.push(n / storeSeconds);
    raw.push(n / rawSeconds);
  }
  return pair(median(store), median(raw));
}

/** A store and its baseline table, each with what is stored in it, for {@link latencyWorkload}. */
export interface Stored {
  readonly store: Store;
  readonly raw: RawDb;
}

/** The medians of {@link latencyWorkload}: milliseconds of a one-action rebase, and of a single-row raw transaction. */
export interface Latency {
  readonly smallMs: number;
  readonly bigMs: number;
  readonly rawSmallMs: number;
  readonly rawBigMs: number;
}

/**
 * Milliseconds of one-action rebases on a small and on a big store (median of
 * `latencySamples` each), beside single-row raw transactions on the baseline
 * tables of each. The four take turns, one sample each, so the growth from
 * small to big is measured under the same load of the machine (timed minutes
 * apart, a shared machine's drift alone moved it by half).
 */
export async function latencyWorkload(ctx: BenchContext, small: Stored, big: Stored): Promise<Latency> {
  const sides = [small, big].map((s) => ({ ...s, storeMs: [] as number[], rawMs: [] as number[], base: 0 }));
  for (const side of sides) side.base = (await side.store.currentSeqNo()) + 1;
  for (let i = 0; i < ctx.sizes.latencySamples; i++) {
    const action = benchAction(i, ctx.sizes.aggregates, `latency-${i % ctx.sizes.aggregates}`);
    const row = rawRow(action);
    for (const side of sides) {
      const start = performance.now();
      const r = await side.store.rebase(side.base, [action]);
      side.storeMs.push(performance.now() - start);
      if (r.result !== "ok") throw new Error(`bench rebase failed: ${r.result}`);
      side.base = (r.events[0]?.seqNo ?? 0) + 1;
      side.rawMs.push((await seconds(() => side.raw.insert([row]))) * 1000);
    }
  }
  const [s, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
  return {
    smallMs: median(s.storeMs),
    bigMs: median(b.storeMs),
    rawSmallMs: median(s.rawMs),
    rawBigMs: median(b.rawMs),
  };
}

/** The store and baseline table W1's first run wrote (`actions` events), opened again for {@link latencyWorkload}. */
export function reopenW1(ctx: BenchContext): Stored {
  return { store: openStore(ctx.url, { tables: tablesFor(W1_FIRST) }), raw: new RawDb(ctx.raw, `${W1_FIRST}_raw`) };
}

/** The tag of W1's first run, whose store {@link reopenW1} opens again. */
export const W1_FIRST = "w1r0";

/** The big store (`big` actions) and its baseline, written in large batches; returns their build rates too. */
export async function buildBig(ctx: BenchContext): Promise<Written> {
  const { big, bigBatch, aggregates } = ctx.sizes;
  const store = await freshStore(ctx, "big");
  const raw = await freshRaw(ctx, "big");
  let storeSeconds = 0;
  let rawSeconds = 0;
  for (let from = 0; from < big; from += bigBatch) {
    const history = Array.from({ length: Math.min(bigBatch, big - from) }, (_, i) => benchAction(from + i, aggregates));
    storeSeconds += await seconds(() => rebaseAll(store, [history]));
    rawSeconds += await seconds(() => insertAll(raw, [history]));
    if ((from / bigBatch) % 20 === 19) ctx.log(`  built ${from + bigBatch} of ${big}`);
  }
  return { events: pair(big / storeSeconds, big / rawSeconds), store, raw };
}

/** Streams the big store in a child process (the store's `stream()`, then the baseline), for rate and peak RSS. */
export async function bigStreamWorkload(
  ctx: BenchContext,
  storeFirst: boolean,
): Promise<{ events: Pair; storeMaxRssMB: number; rawMaxRssMB: number }> {
  const runStore = () => runChildren([{ mode: "stream-store", url: ctx.url, tables: tablesFor("big") }]);
  const runRaw = () => runChildren([{ mode: "stream-raw", url: ctx.url, table: "big_raw", pageSize: RAW_PAGE }]);
  const [s] = storeFirst ? await runStore() : [];
  const [r] = await runRaw();
  const [s2] = storeFirst ? [s] : await runStore();
  if (!s2 || !r) throw new Error("a stream child reported nothing");
  // The big store also holds the one-action rebases timed on it.
  const expected = ctx.sizes.big + ctx.sizes.latencySamples;
  if (s2.count !== expected || r.count !== expected)
    throw new Error(`streamed ${s2.count} and ${r.count} of ${expected}`);
  return {
    events: pair(s2.count / s2.seconds, r.count / r.seconds),
    storeMaxRssMB: s2.maxRssMB,
    rawMaxRssMB: r.maxRssMB,
  };
}

/** W4's figures: per second, summed over the writers. */
export interface Contention {
  readonly committed: number;
  readonly conflicts: number;
  readonly writeConflicts: number;
  readonly raw: number;
  readonly ratio: number;
  /** Raw single-row transactions that hold one write lock and number their rows gaplessly, per second. */
  readonly rawSerialized: number;
  /** Raw transactions (both kinds) that SQLite's busy timeout ended, per second. */
  readonly rawWriteConflicts: number;
  /**
   * CPU milliseconds the writer processes spent per rebase tried (committed or not) and per raw
   * transaction: on a machine with fewer cores than writers and server, the client's CPU is
   * taken from the server holding the write lock.
   */
  readonly cpuMs: { readonly store: number; readonly raw: number; readonly rawSerialized: number };
}

/** CPU milliseconds of writer processes per transaction they tried. */
function cpuPerTry(results: readonly ChildResult[]): number {
  const cpu = results.reduce((sum, r) => sum + r.cpuSeconds, 0);
  const tries = results.reduce((sum, r) => sum + r.count + r.conflicts + r.writeConflicts, 0);
  return (1000 * cpu) / Math.max(tries, 1);
}

/**
 * W4: writer processes rebasing single actions on shared aggregates, beside as many processes of
 * raw single-row transactions and of the reference under one lock. Two rounds of each, in turns
 * (store, raw, reference, then reference, raw, store), as the other workloads take turns: a
 * load that comes and goes on the machine (a server's background work after the bulk load)
 * falls on both sides alike. Each side's rate is the mean of its rounds'.
 */
export async function contentionWorkload(ctx: BenchContext, tag: string): Promise<Contention> {
  const { writers, sharedAggregates: shared, seconds: duration, warmup } = ctx.sizes;
  const store = await freshStore(ctx, tag);
  await store.close();
  // The reference numbers its rows itself: a table of its own, so that the baseline's serial keys
  // never meet the reference's in the second round.
  await freshRaw(ctx, tag);
  await freshRaw(ctx, `${tag}ref`);
  type Side = "w4-store" | "w4-raw" | "w4-raw-serialized";
  const run = (mode: Side) =>
    runChildren(
      Array.from({ length: writers }, (_, writer) => {
        const task = { url: ctx.url, seconds: duration, warmup, shared, writer };
        return mode === "w4-store"
          ? { ...task, mode, tables: tablesFor(tag) }
          : { ...task, mode, table: `${mode === "w4-raw" ? tag : `${tag}ref`}_raw` };
      }),
    );
  const results: Record<Side, ChildResult[]> = { "w4-store": [], "w4-raw": [], "w4-raw-serialized": [] };
  for (const mode of ["w4-store", "w4-raw", "w4-raw-serialized", "w4-raw-serialized", "w4-raw", "w4-store"] as const) {
    results[mode].push(...(await run(mode)));
  }
  const [mine, theirs, serialized] = [results["w4-store"], results["w4-raw"], results["w4-raw-serialized"]];
  // Per second, summed over the writers, averaged over the rounds.
  const rate = (list: readonly ChildResult[], key: "count" | "conflicts" | "writeConflicts") =>
    list.reduce((sum, r) => sum + r[key] / r.seconds, 0) / 2;
  const committed = rate(mine, "count");
  const rawRate = rate(theirs, "count");
  return {
    committed,
    conflicts: rate(mine, "conflicts"),
    writeConflicts: rate(mine, "writeConflicts"),
    raw: rawRate,
    ratio: committed / rawRate,
    rawSerialized: rate(serialized, "count"),
    rawWriteConflicts: rate(theirs, "writeConflicts") + rate(serialized, "writeConflicts"),
    cpuMs: { store: cpuPerTry(mine), raw: cpuPerTry(theirs), rawSerialized: cpuPerTry(serialized) },
  };
}
