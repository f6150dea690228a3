/**
 * A child process for test/concurrency.test.ts: for `durationMs` it rebases
 * small batches on aggregates it shares with the other writers, often on a
 * stale base, resolving each conflict it gets by naming it in `resolved`.
 *
 * Usage: node --import tsx test/support/concurrent-writer.ts <url> <writer> <durationMs> <aggregates>
 * Prints one JSON line per rebase: `{"result":"ok","base":…,"resolved":[…],"seqNos":[…],"tags":[…]}`,
 * `{"result":"conflict"}`, `{"result":"write-conflict","error":…}` or `{"result":"threw","error":…}`.
 */
import { type NewEvent, openStore } from "../../src/index.js";

const [url, writerArg, durationText, aggregatesText] = process.argv.slice(2);
if (!url || !writerArg || !durationText || !aggregatesText) {
  throw new Error("usage: concurrent-writer <url> <writer> <durationMs> <aggregates>");
}
const writer: string = writerArg;
const end = Date.now() + Number(durationText);
const aggregates = Number(aggregatesText);
const pick = (n: number) => Math.floor(Math.random() * n);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** Batch `k`: 1 to 3 events, each tagged (as its source) with writer, batch and position; now and then an effect. */
function batch(k: number): NewEvent[] {
  return Array.from({ length: 1 + pick(3) }, (_, i): NewEvent => {
    const source = `w${writer}-${k}-${i}`;
    const timestamp = new Date();
    if (Math.random() < 0.1)
      return { timestamp, source, effect: { reason: "key-expired", trigger: ["key", pick(aggregates)] } };
    const a = pick(aggregates);
    return {
      timestamp,
      source,
      action: {
        reason: "update",
        actor: ["writer", writer],
        aggregate: ["agg", a],
        patch: { assoc: { [`w${writer}`]: k } },
      },
      triggers: [["key", a]],
    };
  });
}

const store = openStore(url);
try {
  for (let k = 0; Date.now() < end; k++) {
    const history = batch(k);
    // Up to 4 seqNos behind: stale bases make conflicts, resolutions make them pass.
    const base = Math.max(1, (await store.currentSeqNo()) + 1 - pick(5));
    const resolved: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const r = await store.rebase(base, history, { resolved });
      if (r.result === "ok") {
        print({
          result: "ok",
          base,
          resolved,
          seqNos: r.events.map((e) => e.seqNo),
          tags: history.map((e) => e.source),
        });
        break;
      }
      if (r.result === "conflict") {
        print({ result: "conflict" });
        resolved.push(r.conflict.theirs.seqNo);
        continue;
      }
      print({ result: r.result, error: r.result === "write-conflict" ? String(r.error) : `next ${r.nextSeqNo}` });
      break;
    }
  }
} catch (error) {
  print({ result: "threw", error: String((error as Error).stack ?? error) });
  process.exitCode = 1;
} finally {
  await store.close();
}
