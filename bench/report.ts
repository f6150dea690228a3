import type { StoreResult } from "./bench-store.js";
import type { Sizes } from "./config.js";
import type { Pair } from "./workloads.js";

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const cell = (p: Pair) => `${n(p.store)} / ${n(p.raw)} (**${p.ratio.toFixed(2)}**)`;

/** The README table: one column per store, one row per figure (store / raw (ratio)). */
export function markdownTable(results: readonly StoreResult[], sizes: Sizes): string {
  const k = (v: number) => (v >= 1_000_000 ? `${v / 1_000_000}M` : v >= 1000 ? `${v / 1000}k` : `${v}`);
  const rows: [string, (r: StoreResult) => string][] = [
    [`W1: ${k(sizes.actions)} one-action rebases, events/s`, (r) => cell(r.w1)],
    [`W2: rebases of ${sizes.batch}, events/s`, (r) => cell(r.w2)],
    [`W3: stream ${k(sizes.actions)}, actions/s`, (r) => cell(r.stream)],
    [`W3: stream ${k(sizes.big)}, actions/s`, (r) => cell(r.bigStream)],
    [`W3: state of an aggregate of ${k(sizes.aggregateActions)}, actions/s`, (r) => cell(r.aggregate)],
    [
      `one-action rebase, ms at ${k(sizes.actions)} → ${k(sizes.big)} stored`,
      (r) =>
        `${r.latency.smallMs.toFixed(3)} → ${r.latency.bigMs.toFixed(3)} (**×${r.latency.growth.toFixed(2)}**; raw ${r.latency.rawSmallMs.toFixed(3)} → ${r.latency.rawBigMs.toFixed(3)})`,
    ],
    [
      `peak RSS streaming ${k(sizes.big)}, MB`,
      (r) => `**${n(r.bigStream.storeMaxRssMB)}** (raw ${n(r.bigStream.rawMaxRssMB)})`,
    ],
    [
      `W4: ${sizes.writers} processes, ${sizes.sharedAggregates} aggregates, committed/s`,
      (r) => `${n(r.w4.committed)} / ${n(r.w4.raw)} (**${r.w4.ratio.toFixed(2)}**)`,
    ],
    [`W4: conflicts/s (write-conflicts/s)`, (r) => `${n(r.w4.conflicts)} (${n(r.w4.writeConflicts)})`],
    [
      `W4 reference: raw rows under one write lock, gapless keys, rows/s (of raw)`,
      (r) =>
        r.w4.rawSerialized === undefined
          ? "–"
          : `${n(r.w4.rawSerialized)} (**${(r.w4.rawSerialized / r.w4.raw).toFixed(2)}**)`,
    ],
    [`building ${k(sizes.big)} in rebases of ${k(sizes.bigBatch)}, events/s`, (r) => cell(r.bigBuild)],
  ];
  const head = `| workload | ${results.map((r) => r.store).join(" | ")} |`;
  const rule = `|---|${results.map(() => "---|").join("")}`;
  const body = rows.map(([label, f]) => `| ${label} | ${results.map(f).join(" | ")} |`);
  const versions = results.map((r) => `${r.store}: ${r.database}`).join("; ");
  return [head, rule, ...body, "", `Cells: store / raw SQL (ratio). Databases: ${versions}.`].join("\n");
}
