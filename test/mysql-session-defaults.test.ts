import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { endPool, query } from "./support/mysql-pool.js";

/** A pool whose sessions start with `statements`, as an application's (or a server's `init_connect`) could. */
function poolWith(url: string, statements: string[], options: mysql.PoolOptions = {}): mysql.Pool {
  const pool = mysql.createPool({ uri: url, connectionLimit: 1, ...options });
  pool.on("connection", (connection) => {
    for (const sql of statements) connection.query(sql);
  });
  return pool;
}

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: sessions with another autocommit or isolation by default", () => {
    afterAll(() => factory.dispose());

    for (const multipleStatements of [false, true]) {
      it(`autocommit=0${multipleStatements ? " (several statements a query)" : ""}: initSchema commits, writes work, reads see other processes' commits`, async () => {
        await factory.create();
        const url = factory.lastUrl as string;
        // Relations of their own, so that this store's initSchema() makes them.
        const tables = { event: "log", action: "log_actions", effect: "log_effects", trigger: "log_triggers" };
        const pool = poolWith(url, ["set session autocommit = 0"], { multipleStatements });
        const store: Store = openStore("mysql://", { pool, tables });
        const other: Store = openStore(url, { tables }); // another process, in autocommit
        const plain = mysql.createPool({ uri: url, connectionLimit: 1 });
        try {
          await store.initSchema();
          // The schema version and the write-lock row are committed, not left in the pooled connection's transaction.
          expect(await query<{ name: string }[]>(plain, "select name from log_meta order by name")).toEqual([
            { name: "schema-version" },
            { name: "write-lock" },
          ]);
          expect((await store.rebase(1, [act(["a", 1])])).result).toBe("ok");
          expect(await store.currentSeqNo()).toBe(1);
          expect((await other.rebase(2, [act(["a", 2])])).result).toBe("ok");
          // A read on the same pooled connection sees what was committed since its last read.
          expect(await store.currentSeqNo()).toBe(2);
          expect((await store.rebase(3, [act(["a", 3])])).result).toBe("ok");
          expect((await other.rebase(4, [act(["a", 4])])).result).toBe("ok");
          expect(await store.currentSeqNo()).toBe(4);
          expect((await collect(store.stream())).map((e) => e.seqNo)).toEqual([1, 2, 3, 4]);
          // The application's own read leaves a transaction open on the pooled connection (autocommit is off).
          await query(pool, "select name from log_meta");
          expect((await store.rebase(5, [act(["a", 5])])).result).toBe("ok");
          expect(await store.currentSeqNo()).toBe(5);
        } finally {
          await store.close();
          await other.close();
          await endPool(pool);
          await endPool(plain);
        }
      });
    }

    it("READ UNCOMMITTED: a follower does not skip the actions of a rebase that was in flight when it read the head", async () => {
      const writer = await factory.create();
      const url = factory.lastUrl as string;
      const admin = mysql.createPool({ uri: url, connectionLimit: 1 });
      // The action rows go in a second after the event rows (the first and last event of the commit).
      await query(admin, "create trigger slow_actions before insert on actions for each row set @slept = sleep(1)");
      const pool = poolWith(url, ["set session transaction isolation level read uncommitted"], { connectionLimit: 2 });
      const follower: Store = openStore("mysql://", { pool });
      const stop = new AbortController();
      const seen: number[] = [];
      let caughtUp = 0;
      const following = (async () => {
        for await (const e of follower.follow({
          offset: 1,
          signal: stop.signal,
          onCaughtUp: (head) => {
            caughtUp = head;
          },
        }))
          seen.push(e.seqNo);
      })();
      try {
        expect((await writer.rebase(1, [act(["a", 1]), act(["a", 2])])).result).toBe("ok");
        const deadline = Date.now() + 5000;
        while (caughtUp < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(caughtUp).toBe(2);
        expect(seen).toEqual([1, 2]);
      } finally {
        stop.abort();
        await following;
        await follower.close();
        await endPool(pool);
        await endPool(admin);
      }
    });
  });
}
