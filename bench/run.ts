/**
 * `npm run bench`: every workload of issue 7 on each store, beside raw SQL on
 * the same database. `BENCH_STORES=sqlite,postgres,mysql` chooses the stores,
 * `BENCH_SCALE=tiny` shrinks every size for a quick check.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchStore, type StoreResult, supported } from "./bench-store.js";
import { sizesFor } from "./config.js";
import { followLatency } from "./follow-latency.js";
import { machine } from "./machine.js";
import { markdownTable } from "./report.js";
import { createTarget } from "./targets.js";

const scale = process.env.BENCH_SCALE ?? "full";
const sizes = sizesFor(scale);
const stores = (process.env.BENCH_STORES ?? "sqlite,postgres,mysql")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
// Results go to the source tree's bench/results, whether this runs compiled (dist-bench/bench) or not.
const RESULTS = join(process.cwd(), "bench", "results");
const log = (line: string) => console.log(line);

const host = machine();
log(
  `coherence-store bench, scale ${scale}, on ${host.cpu} (${host.cores} cores, ${host.memoryGB} GB), Node ${host.node}`,
);
const results: StoreResult[] = [];
for (const name of stores) {
  const probe = await createTarget(name);
  const ok = supported(probe.url);
  await probe.drop();
  if (!ok) {
    log(`${name}: skipped, openStore does not accept its URLs yet`);
    continue;
  }
  const result = await benchStore(name, sizes, log);
  results.push(result);
  // The follow delay on a store of its own: commits paced apart, so each delivery takes the wake-up path.
  const target = await createTarget(name);
  let follow: Awaited<ReturnType<typeof followLatency>>;
  try {
    follow = await followLatency(target.url, { samples: scale === "full" ? 200 : 20 });
  } finally {
    await target.drop();
  }
  const other = follow.otherProcess;
  log(
    `${name} follow delay: same process ${follow.sameProcess.medianMs.toFixed(2)} / ${follow.sameProcess.p99Ms.toFixed(2)} ms` +
      (other ? `, other process ${other.medianMs.toFixed(2)} / ${other.p99Ms.toFixed(2)} ms` : "") +
      " (median / p99)",
  );
  const date = new Date().toISOString();
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}${scale === "full" ? "" : `-${scale}`}.json`);
  writeFileSync(file, `${JSON.stringify({ date, scale, sizes, machine: host, result, follow }, null, 2)}\n`);
  log(`${name}: done in ${Math.round(result.wallSeconds)} s, written to bench/results/`);
}
log("");
log(markdownTable(results, sizes));
