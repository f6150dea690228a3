/**
 * A child process for test/follow.test.ts: it runs the fold projection of
 * test/support/read-model.ts on a store, printing `caught-up <head>` each time
 * it has caught up, until it is killed.
 *
 * Usage: node --import tsx test/support/projection-runner.ts <url> <name> <table> <batchSize>
 */
import { openStore, runProjection } from "../../src/index.js";
import { foldProjection } from "./read-model.js";

const [url, name, table, batchSize] = process.argv.slice(2);
if (!url || !name || !table || !batchSize) throw new Error("usage: projection-runner <url> <name> <table> <batchSize>");

const store = openStore(url);
await runProjection(store, foldProjection(name, table), {
  batchSize: Number(batchSize),
  onCaughtUp: (head) => process.stdout.write(`caught-up ${head}\n`),
});
