import { openKeystore, openStore } from "../../src/index.js";

/**
 * A process that encrypts one value for each of `count` triggers on the store
 * at `url`, starting at the epoch millisecond `start` (so that processes race),
 * and prints `{"i":…,"text":…}` per value, then `done`.
 */
const [url, masterKey, count, start, who] = process.argv.slice(2) as [string, string, string, string, string];
const store = openStore(url);
try {
  const keystore = openKeystore(store, { masterKey });
  await new Promise((r) => setTimeout(r, Math.max(0, Number(start) - Date.now())));
  for (let i = 0; i < Number(count); i++) {
    const text = await keystore.encrypt(["subject", i], `${who} ${i}`);
    process.stdout.write(`${JSON.stringify({ i, text })}\n`);
  }
  process.stdout.write("done\n");
} finally {
  await store.close();
}
