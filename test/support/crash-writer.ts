/**
 * A child process for test/crash.test.ts: it writes large batches to a store
 * in a loop until it is killed. Each batch is one rebase of `size` actions on
 * aggregates of its own, so a batch is recognisable as a whole when read back.
 *
 * Usage: node --import tsx test/support/crash-writer.ts <url> <size> <tag>
 * Prints `start <k>` before the rebase of batch k and `done <k> <first seqNo>`
 * after it committed.
 */
import { type NewAction, openStore } from "../../src/index.js";

const [url, sizeText, tag] = process.argv.slice(2);
if (!url || !sizeText || !tag) throw new Error("usage: crash-writer <url> <size> <tag>");
const size = Number(sizeText);

/** Batch `k` of this writer: every action names its writer, batch and position. */
function batch(writer: string, k: number, n: number): NewAction[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(1_700_000_000_000 + i),
    source: writer,
    action: {
      reason: `batch-${k}`,
      actor: ["writer", writer],
      aggregate: ["crash", `${writer}/${k}/${i}`],
      patch: { assoc: { i, text: "x".repeat(40), nested: { k, list: [i, `${i}`] } } },
    },
    // Triggers fill a fourth table, so a torn batch would show in more places.
    ...(i % 10 === 0 ? { triggers: [["key", `${writer}/${k}`]] as const } : {}),
  }));
}

const store = openStore(url);
await store.initSchema();
for (let k = 1; ; k++) {
  const history = batch(tag, k, size);
  process.stdout.write(`start ${k}\n`);
  const r = await store.rebase((await store.currentSeqNo()) + 1, history);
  if (r.result !== "ok") {
    process.stderr.write(`batch ${k}: ${JSON.stringify(r)}\n`);
    process.exit(2);
  }
  process.stdout.write(`done ${k} ${r.events[0]?.seqNo}\n`);
}
