/**
 * Commit-to-delivery delay of `store.follow`: how long after a rebase
 * resolves in the writer a follower gets its action, median and 99th
 * percentile, for a writer in the follower's process (woken at once) and in
 * another process (LISTEN/NOTIFY on PostgreSQL, polling elsewhere).
 *
 *   node --import tsx bench/follow-latency.ts <url> [samples]
 *
 * or, from bench/run.ts: `await followLatency(url, { samples })`. The store
 * at `url` gets its schema and `samples` one-action rebases per mode.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openStore, type Store } from "../src/index.js";

/** Delays in milliseconds. */
export interface LatencyFigures {
  readonly samples: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

/** Both modes of {@link followLatency}. */
export interface FollowLatency {
  readonly sameProcess: LatencyFigures;
  /** Absent for `memory:`, which no other process can see. */
  readonly otherProcess?: LatencyFigures;
}

/** Milliseconds on a clock that processes of one machine share, with sub-millisecond resolution. */
const now = () => performance.timeOrigin + performance.now();
/** Pause between commits: long enough for the follower to go idle, so each delivery takes the wake-up path. */
const PACE_MS = 20;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function figures(delays: readonly number[]): LatencyFigures {
  const round = (v: number) => Math.round(v * 100) / 100;
  return { samples: delays.length, medianMs: round(percentile(delays, 50)), p99Ms: round(percentile(delays, 99)) };
}

function action(i: number) {
  return {
    timestamp: new Date(),
    source: "bench",
    action: {
      reason: "tick",
      actor: ["bench", "writer"] as const,
      aggregate: ["tick", i % 50] as const,
      patch: { assoc: { i } },
    },
  };
}

/** Commits `samples` actions one by one; reports each commit's seqNo and the time its rebase resolved. */
async function write(store: Store, samples: number, report: (seqNo: number, at: number) => void): Promise<void> {
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, PACE_MS * (0.5 + Math.random())));
    const r = await store.rebase((await store.currentSeqNo()) + 1, [action(i)]);
    const at = now();
    if (r.result !== "ok") throw new Error(`bench write failed: ${JSON.stringify(r)}`);
    report(r.events[0]?.seqNo as number, at);
  }
}

/** Follows `store` from its head and records when each seqNo arrives, until `stop` aborts. */
function receive(
  store: Store,
  from: number,
  signal: AbortSignal,
): { arrived: Map<number, number>; done: Promise<void> } {
  const arrived = new Map<number, number>();
  const done = (async () => {
    for await (const e of store.follow({ offset: from, signal })) arrived.set(e.seqNo, now());
  })();
  return { arrived, done };
}

async function measure(
  follower: Store,
  samples: number,
  writeAll: (report: (seqNo: number, at: number) => void) => Promise<void>,
): Promise<LatencyFigures> {
  const controller = new AbortController();
  const committed = new Map<number, number>();
  const { arrived, done } = receive(follower, (await follower.currentSeqNo()) + 1, controller.signal);
  await writeAll((seqNo, at) => committed.set(seqNo, at));
  const deadline = Date.now() + 10_000;
  while ([...committed.keys()].some((s) => !arrived.has(s)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await done;
  const delays = [...committed].map(([s, at]) => (arrived.get(s) ?? Number.NaN) - at);
  if (delays.some(Number.isNaN)) throw new Error(`follow-latency: ${samples} commits, some never delivered`);
  return figures(delays);
}

/** Measures the commit-to-delivery delay of `store.follow` on the store at `url`. */
export async function followLatency(url: string, options: { samples?: number } = {}): Promise<FollowLatency> {
  const samples = options.samples ?? 200;
  const follower = openStore(url);
  await follower.initSchema();
  try {
    const writer = url === "memory:" ? follower : openStore(url);
    const sameProcess = await measure(follower, samples, (report) => write(writer, samples, report));
    if (writer !== follower) await writer.close();
    if (url === "memory:") return { sameProcess };
    const otherProcess = await measure(follower, samples, (report) => writeInChild(url, samples, report));
    return { sameProcess, otherProcess };
  } finally {
    await follower.close();
  }
}

/** Runs this file as a writer process, which prints `seqNo time` per commit. */
function writeInChild(url: string, samples: number, report: (seqNo: number, at: number) => void): Promise<void> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), "--writer", url, `${samples}`],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let rest = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const [seqNo, at] = line.split(" ").map(Number);
      report(seqNo as number, at as number);
    }
  });
  return new Promise((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`follow-latency writer exited ${code}`)))),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [first, ...rest] = process.argv.slice(2);
  if (first === "--writer") {
    const [url, samples] = rest;
    const store = openStore(url as string);
    await write(store, Number(samples), (seqNo, at) => process.stdout.write(`${seqNo} ${at}\n`));
    await store.close();
  } else {
    if (!first) throw new Error("usage: follow-latency <url> [samples]");
    console.log(JSON.stringify(await followLatency(first, { samples: rest[0] ? Number(rest[0]) : undefined })));
  }
}
