/**
 * A child process for test/follow.test.ts: it runs the fold projection of
 * test/support/read-model.ts on a store, printing `caught-up <head>` each time
 * it has caught up, until it is killed.
 *
 * Usage: node --import tsx test/support/projection-runner.ts <url> <name> <table> <batchSize> [delayMs]
 * Prints `start` when it begins and `applying` at its first apply; `delayMs`
 * slows each apply, so a kill lands mid-run.
 */
import { openStore, runProjection } from "../../src/index.js";
import { foldProjection } from "./read-model.js";

const [url, name, table, batchSize, delayMs = "0"] = process.argv.slice(2);
if (!url || !name || !table || !batchSize) throw new Error("usage: projection-runner <url> <name> <table> <batchSize>");

const store = openStore(url);
const fold = foldProjection(name, table);
const delay = Number(delayMs);
let applying = false;
const slow = {
  ...fold,
  async apply(...args: Parameters<typeof fold.apply>) {
    if (!applying) {
      applying = true;
      process.stdout.write("applying\n");
    }
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    await fold.apply(...args);
  },
};
process.stdout.write("start\n");
await runProjection(store, slow, {
  batchSize: Number(batchSize),
  onCaughtUp: (head) => process.stdout.write(`caught-up ${head}\n`),
});
