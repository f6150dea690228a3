/**
 * A child process for test/follow.test.ts: it commits `count` small rebases
 * on aggregates and keys of its own (so none conflicts), some of them key
 * expiries (effects) that replay earlier actions, then prints `done`.
 *
 * Usage: node --import tsx test/support/follow-writer.ts <url> <tag> <count>
 */
import { type NewEvent, openStore } from "../../src/index.js";

const [url, tagText, countText] = process.argv.slice(2);
if (!url || !tagText || !countText) throw new Error("usage: follow-writer <url> <tag> <count>");
const tag: string = tagText;

function commit(i: number): NewEvent[] {
  const key = ["key", `${tag}/${i % 3}`] as const;
  if (i % 7 === 6) return [{ timestamp: new Date(), source: tag, effect: { reason: "key-expired", trigger: key } }];
  const action = {
    timestamp: new Date(),
    source: tag,
    action: {
      reason: "update",
      actor: ["writer", tag] as const,
      aggregate: ["account", `${tag}/${i % 5}`] as const,
      patch: { assoc: { i } },
    },
  };
  return i % 2 === 0
    ? [{ ...action, triggers: [key] }]
    : [action, { ...action, action: { ...action.action, aggregate: ["other", tag] as const } }];
}

/**
 * A pause after each commit: spread over more than the follower's longest idle
 * poll (500 ms), the commits reach it in several batches, so effects replay
 * actions it has already delivered. Unpaced, an idle machine commits them all
 * between two polls and the follower reads one batch with nothing to replay.
 */
const PACE_MS = 15;

const store = openStore(url);
for (let i = 0; i < Number(countText); i++) {
  if (i > 0) await new Promise((r) => setTimeout(r, PACE_MS));
  const r = await store.rebase((await store.currentSeqNo()) + 1, commit(i));
  if (r.result !== "ok") {
    process.stderr.write(`commit ${i}: ${JSON.stringify(r)}\n`);
    process.exit(2);
  }
}
await store.close();
process.stdout.write("done\n");
