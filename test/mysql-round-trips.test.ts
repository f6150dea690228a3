import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storeFactories } from "./stores.js";
import { act } from "./support/events.js";

/** A pool of the store's database whose connections count the queries they send. */
function countingPool(url: string): { pool: mysql.Pool; sent: () => number } {
  const pool = mysql.createPool({ uri: url, multipleStatements: true });
  let sent = 0;
  pool.on("connection", (connection) => {
    const query = connection.query.bind(connection);
    (connection as unknown as { query: unknown }).query = (...args: unknown[]) => {
      sent++;
      return (query as (...a: unknown[]) => unknown)(...args);
    };
  });
  return { pool, sent: () => sent };
}

for (const factory of storeFactories().filter((f) => f.name === "mysql")) {
  describe("MySQL/MariaDB: a rebase is one round trip when nothing conflicts", () => {
    afterAll(() => factory.dispose());

    it("a writer behind the head: one query for the lock, the head, the checks, the rows and COMMIT", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      const { pool, sent } = countingPool(url);
      const store = openStore("mysql://", { pool });
      try {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        // Warm the pool: its first connection, and the store's first head.
        await store.currentSeqNo();
        // Two commits the writer has not seen, one on its aggregate before its base.
        expect((await other.rebase(2, [act(["order", 2]), act(["order", 3])])).result).toBe("ok");
        const before = sent();
        const r = await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })]);
        expect(sent() - before).toBe(1);
        expect(r).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 4 });

        // A conflict still gets the full rules: the rows stay out, theirs is reported.
        const c = await store.rebase(3, [act(["order", 3], { assoc: { n: 9 } })]);
        expect(c).toMatchObject({ result: "conflict", conflict: { theirs: { seqNo: 3 } } });
        // A base past the head + 1 as well.
        expect(await store.rebase(9, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 5 });
        expect(await store.currentSeqNo()).toBe(4);

        // A writer going on from its own last write appends on the head it saw (one query); when
        // another writer committed since, that append is refused (its query, then a ROLLBACK) and
        // the one-query rebase follows.
        expect((await store.rebase(5, [act(["order", 5])])).result).toBe("ok");
        let at = sent();
        expect(await store.rebase(6, [act(["order", 6])])).toMatchObject({ result: "ok", events: [{ seqNo: 6 }] });
        expect(sent() - at).toBe(1);
        expect((await other.rebase(7, [act(["order", 7])])).result).toBe("ok");
        at = sent();
        expect(await store.rebase(7, [act(["order", 8])])).toMatchObject({ result: "ok", events: [{ seqNo: 8 }] });
        expect(sent() - at).toBe(3);
      } finally {
        await store.close();
        await new Promise<void>((resolve) => pool.end(() => resolve()));
      }
    });
  });
}
