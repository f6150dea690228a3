import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { act, collect } from "./support/events.js";
import { PrivateMariadb } from "./support/private-mariadb.js";

/**
 * A server whose max_allowed_packet is 4 MiB (MySQL 5.7's default, and a value
 * many my.cnf templates still set), below the 16 MiB of MariaDB's default the
 * store splits its statements for. A server-wide setting: a private server.
 */
const RUN = process.env.COHERENCE_STORES === undefined || process.env.COHERENCE_STORES.split(",").includes("mysql");

describe.runIf(RUN)("MariaDB with max_allowed_packet=4M", () => {
  let server: PrivateMariadb | undefined;
  let store: Store;

  beforeAll(async () => {
    server = await PrivateMariadb.create(["--max-allowed-packet=4M"]);
    store = openStore(server.url);
    await store.initSchema();
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    server?.dispose();
  });

  it("a rebase of 600 events of 8 KB each (well within the store's limits) is written", async () => {
    const history = Array.from({ length: 600 }, (_, i) => act(["doc", i], { assoc: { body: "x".repeat(8000) } }));
    const r = await store.rebase(1, history);
    expect(r.result).toBe("ok");
    expect(await store.currentSeqNo()).toBe(600);
    expect((await collect(store.stream())).length).toBe(600);
  });

  it("so is a rebase of 1,000 such events (the chunk size of the prepared inserts)", async () => {
    const history = Array.from({ length: 1000 }, (_, i) => act(["page", i], { assoc: { body: "y".repeat(8000) } }));
    const r = await store.rebase((await store.currentSeqNo()) + 1, history);
    expect(r.result).toBe("ok");
  });
});
