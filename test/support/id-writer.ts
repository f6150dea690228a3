/**
 * A child process for test/retry.test.ts: one idempotent rebase of
 * `idBatch(id, size)` on top of the head, then prints its result as JSON.
 *
 * Usage: node --import tsx test/support/id-writer.ts <url> <size> <id>
 */
import { openStore } from "../../src/index.js";
import { idBatch } from "./id-batch.js";

const [url, size, id] = process.argv.slice(2);
if (!url || !size || !id) throw new Error("usage: id-writer <url> <size> <id>");
const store = openStore(url);
process.stdout.write("start\n");
const r = await store.rebase((await store.currentSeqNo()) + 1, idBatch(id, Number(size)), { id });
process.stdout.write(`result ${JSON.stringify(r.result === "ok" ? r.events.map((e) => e.seqNo) : r)}\n`);
await store.close();
