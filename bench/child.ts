/**
 * A bench child process: streams a big store (so its peak RSS is the stream's
 * alone) or runs one W4 writer. It takes a {@link ChildTask} message, answers
 * `ready`, waits for `go`, then answers with its {@link ChildResult}.
 */
import { openStore, type TableNames } from "../src/index.js";
import { benchAction, rawRow } from "./events.js";
import { rawClient } from "./raw/raw-client.js";
import { RawDb } from "./raw/raw-db.js";

/** What a child is asked to do. */
export type ChildTask =
  | { mode: "stream-store"; url: string; tables: TableNames }
  | { mode: "stream-raw"; url: string; table: string; pageSize: number }
  | (W4Task & { mode: "w4-store"; tables: TableNames })
  | (W4Task & { mode: "w4-raw" | "w4-raw-serialized"; table: string });

/** What a W4 writer is given: it runs the workload `warmup` seconds unmeasured, then `seconds` measured. */
interface W4Task {
  readonly url: string;
  readonly seconds: number;
  readonly warmup: number;
  readonly shared: number;
  readonly writer: number;
}

/** What a child reports. */
export interface ChildResult {
  /** Actions streamed, or rebases (rows) committed. */
  readonly count: number;
  readonly conflicts: number;
  readonly writeConflicts: number;
  readonly seconds: number;
  /** Peak resident set size of the process, MiB. */
  readonly maxRssMB: number;
  /** CPU time (user and system) the process spent in its measured {@link seconds}. */
  readonly cpuSeconds: number;
}

const send = (message: unknown) =>
  new Promise<void>((resolve, reject) => process.send?.(message, (e: Error | null) => (e ? reject(e) : resolve())));
const go = () => new Promise<void>((resolve) => process.once("message", () => resolve()));
const maxRssMB = () => process.resourceUsage().maxRSS / 1024;

/**
 * A W4 writer's loop: `step` (the i-th transaction) runs for `task.warmup` seconds, then its
 * counts are cleared and it runs for `task.seconds` more, measured. The writers of a side start
 * together, so they warm up under the same contention as they are measured in: a new process
 * runs the store's code unoptimized at first, and under contention (a few hundred rebases a
 * second a writer) V8 has compiled it only after 10-20 s (PostgreSQL, 30 s: a writer's rebases
 * a second rose from about 160 to 300 while its CPU a second fell from 280 to 165 ms).
 */
async function warmThenMeasure(
  task: W4Task,
  result: { count: number; conflicts: number; writeConflicts: number },
  started: () => number,
  step: (i: number) => Promise<void>,
): Promise<void> {
  let i = 0;
  for (const end = performance.now() + task.warmup * 1000; performance.now() < end; i++) await step(i);
  result.count = result.conflicts = result.writeConflicts = 0;
  for (const end = started() + task.seconds * 1000; performance.now() < end; i++) await step(i);
}

async function run(task: ChildTask): Promise<ChildResult> {
  const result = { count: 0, conflicts: 0, writeConflicts: 0, seconds: 0, cpuSeconds: 0 };
  let cpu: NodeJS.CpuUsage | undefined;
  let start = 0;
  /** Starts the measured span; returns when it began (`performance.now()`). */
  const started = () => {
    cpu = process.cpuUsage();
    start = performance.now();
    return start;
  };
  /** Ends the measured span: its seconds and the CPU time spent in it. */
  const stopped = () => {
    result.seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    result.cpuSeconds = (used.user + used.system) / 1e6;
  };
  if (task.mode === "stream-store") {
    const store = openStore(task.url, { tables: task.tables });
    await send({ ready: true });
    await go();
    started();
    for await (const _ of store.stream()) result.count++;
    stopped();
    await store.close();
  } else if (task.mode === "stream-raw") {
    const client = await rawClient(task.url);
    await send({ ready: true });
    await go();
    started();
    result.count = await new RawDb(client, task.table).stream(task.pageSize);
    stopped();
    await client.close();
  } else if (task.mode === "w4-store") {
    const store = openStore(task.url, { tables: task.tables });
    let base = (await store.currentSeqNo()) + 1;
    await send({ ready: true });
    await go();
    await warmThenMeasure(task, result, started, async (i) => {
      const action = benchAction(i, task.shared, `shared-${Math.floor(Math.random() * task.shared)}`);
      const r = await store.rebase(base, [action]);
      if (r.result === "ok") {
        result.count++;
        base = (r.events[0]?.seqNo ?? 0) + 1;
      } else if (r.result === "conflict") {
        result.conflicts++;
        base = (await store.currentSeqNo()) + 1;
      } else if (r.result === "write-conflict") result.writeConflicts++;
      else throw new Error(`unexpected ${r.result}`);
    });
    stopped();
    await store.close();
  } else {
    const client = await rawClient(task.url);
    const raw = new RawDb(client, task.table);
    await send({ ready: true });
    await go();
    await warmThenMeasure(task, result, started, async (i) => {
      const row = rawRow(benchAction(i, task.shared, `shared-${Math.floor(Math.random() * task.shared)}`));
      try {
        if (task.mode === "w4-raw") await raw.insert([row]);
        else await raw.insertSerialized(row);
        result.count++;
      } catch (error) {
        // SQLite's busy timeout ran out (a writer can lose every race for the lock for its 10 s):
        // counted as the store counts its own (`write-conflict`), and the writer goes on.
        if (!/^SQLITE_BUSY/.test(String((error as { code?: unknown }).code))) throw error;
        result.writeConflicts++;
      }
    });
    stopped();
    await client.close();
  }
  return { ...result, maxRssMB: maxRssMB() };
}

process.once("message", (task: ChildTask) => {
  run(task)
    .then((result) => send({ result }))
    .then(() => process.exit(0))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
});
