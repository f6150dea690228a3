import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionError, DatabaseError, openStore, type Store } from "../src/index.js";
import { idBatch } from "./support/id-batch.js";
import { PrivatePostgres } from "./support/private-postgres.js";

/**
 * Issue 4, server restarts, on a private PostgreSQL server (the shared one
 * serves other test files): a store that was open works again once the server
 * is back, and a call cut by the restart fails with a typed error, having
 * written nothing.
 */
describe("PostgreSQL server restarts", () => {
  let server: PrivatePostgres;
  let store: Store;

  beforeAll(async () => {
    server = await PrivatePostgres.create();
    store = openStore(server.url, { postgres: { max: 4 } });
    await store.initSchema();
  });

  afterAll(async () => {
    await store?.close();
    server?.dispose();
  });

  it("after a restart, the next call of a store that was open succeeds (the pool reconnects)", async () => {
    const first = await store.rebase(1, idBatch("before", 10));
    expect(first.result).toBe("ok");
    server.stop();
    server.start();
    const next = await store.rebase(11, idBatch("after", 10));
    expect(next.result === "ok" && next.events.map((e) => e.seqNo)).toEqual(
      Array.from({ length: 10 }, (_, i) => 11 + i),
    );
    expect(await store.currentSeqNo()).toBe(20);
  });

  it("while the server is down, calls fail with ConnectionError, not a driver error", async () => {
    server.stop();
    try {
      await expect(store.currentSeqNo()).rejects.toBeInstanceOf(ConnectionError);
      await expect(store.rebase(21, idBatch("down", 1))).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      server.start();
    }
    expect(await store.currentSeqNo()).toBe(20);
  });

  it("a rebase in flight when the server goes down fails with a DatabaseError and writes nothing", async () => {
    let cut: unknown;
    for (let attempt = 0; attempt < 5 && cut === undefined; attempt++) {
      const head = await store.currentSeqNo();
      const pending = store.rebase(head + 1, idBatch(`cut-${attempt}`, 10_000));
      // Let the write reach the server, then cut it off mid-transaction.
      await new Promise((r) => setTimeout(r, 30 + attempt * 20));
      server.stop();
      const outcome = await pending.then(
        (r) => ({ ok: r }),
        (e: unknown) => ({ error: e }),
      );
      server.start();
      if ("error" in outcome) {
        cut = outcome.error;
        expect(cut).toBeInstanceOf(DatabaseError);
        expect((cut as DatabaseError).cause).toBeDefined();
        expect(await store.currentSeqNo()).toBe(head);
      }
    }
    expect(cut, "a rebase was cut in flight").toBeDefined();
  });
});
