import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { act, collect } from "./support/events.js";
import { PrivateMariadb } from "./support/private-mariadb.js";
import { onDatabase } from "./support/raw-sql.js";

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

  it("a conflict whose action's text is longer than the packet once escaped is read as the full rules read it", async () => {
    const first = (await store.currentSeqNo()) + 1;
    expect((await store.rebase(first, [act(["big", 1], { assoc: { q: "" } })])).result).toBe("ok");
    // 1.5 million quotes, 3 MB as stored (each \" in JSON): the routine's JSON array of them would be 6 MB.
    await onDatabase(server?.url as string, [
      `update actions set patch = concat('{"assoc":{"q":"', repeat('\\\\"', 1500000), '"}}') where seq_no = ${first}`,
    ]);
    const r = await store.rebase(first, [act(["big", 1], { assoc: { q: "mine" } })]);
    expect(r).toMatchObject({
      result: "conflict",
      conflict: { theirs: { seqNo: first, action: { aggregate: ["big", 1] } } },
    });
    const theirs = r.result === "conflict" ? r.conflict.theirs : undefined;
    expect(theirs && "action" in theirs && (theirs.action.patch as { assoc: { q: string } }).assoc.q).toBe(
      '"'.repeat(1500000),
    );
  });

  it("so is a rebase of 1,000 such events (the chunk size of the prepared inserts)", async () => {
    const history = Array.from({ length: 1000 }, (_, i) => act(["page", i], { assoc: { body: "y".repeat(8000) } }));
    const r = await store.rebase((await store.currentSeqNo()) + 1, history);
    expect(r.result).toBe("ok");
  });
});
