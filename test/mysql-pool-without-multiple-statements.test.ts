import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { DatabaseError, openStore, rebuildProjection, type Store } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { endPool, query } from "./support/mysql-pool.js";

/**
 * A mysql2 pool as an application makes it: `multipleStatements` is false by
 * default, so the store sends each statement in a round trip of its own. Its
 * writes must still be one transaction under the store's write lock.
 */
function plainPool(url: string): mysql.Pool {
  return mysql.createPool({ uri: url, connectionLimit: 4 });
}

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: an application's pool without multipleStatements (mysql2's default)", () => {
    afterAll(() => factory.dispose());

    it("a URL's ?multipleStatements=false is kept, as the option is (the store's default is true)", async () => {
      await factory.create();
      const url = new URL(factory.lastUrl as string);
      const twoStatements = (store: Store) =>
        rebuildProjection(store, { name: "two", apply() {}, clear: (ctx) => ctx.sql?.run("do 1; do 2") });
      const byDefault = openStore(url.toString());
      url.searchParams.set("multipleStatements", "false");
      const without = openStore(url.toString());
      try {
        await twoStatements(byDefault);
        await expect(twoStatements(without)).rejects.toBeInstanceOf(DatabaseError);
        expect((await without.rebase(1, [act(["ok", 1])])).result).toBe("ok");
      } finally {
        await byDefault.close();
        await without.close();
      }
    });

    it("a rebase that fails part-way writes nothing: the head stays where it was, no seqNo is lost", async () => {
      await factory.create();
      const pool = plainPool(factory.lastUrl as string);
      const store: Store = openStore("mysql://", { pool });
      try {
        // The action relation refuses one aggregate: the event rows of the rebase go in first.
        await query(
          pool,
          "create trigger refuse_boom before insert on actions for each row begin if new.aggregate_kind = 'boom' then signal sqlstate '45000' set message_text = 'boom'; end if; end",
        );
        await expect(store.rebase(1, [act(["ok", 1]), act(["boom", 1])])).rejects.toThrow(/boom/);
        // All or nothing: the failed rebase left no event row behind.
        expect(await store.currentSeqNo()).toBe(0);
        const next = await store.rebase(1, [act(["ok", 2])]);
        expect(next.result === "ok" && next.events.map((e) => e.seqNo)).toEqual([1]);
        expect((await collect(store.stream())).map((e) => e.seqNo)).toEqual([1]);
      } finally {
        await store.close();
        await endPool(pool);
      }
    });

    it("writers on two pools, each rebasing on the aggregate it read: no rebase passes over a change it did not see", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const pools = [plainPool(url), plainPool(url)];
      const stores = pools.map((pool) => openStore("mysql://", { pool }));
      try {
        const oks: { base: number; seqNo: number }[] = [];
        // Until 40 have passed (30 s at most: a loaded server passes fewer in any fixed time).
        const deadline = Date.now() + 30_000;
        await Promise.all(
          Array.from({ length: 8 }, async (_, w) => {
            const store = stores[w % 2] as Store;
            while (oks.length < 40 && Date.now() < deadline) {
              const seen = await store.aggregate(["counter", 1]);
              const base = (seen?.seqNo ?? 0) + 1;
              const r = await store.rebase(base, [act(["counter", 1], { assoc: { writer: w } })]);
              if (r.result === "ok") oks.push({ base, seqNo: r.events[0]?.seqNo as number });
            }
          }),
        );
        const all = await collect((stores[0] as Store).stream());
        // Every action is on the one aggregate: an ok rebase on `base` means no action in [base, its seqNo).
        const lost = oks.filter((o) => all.some((e) => e.seqNo >= o.base && e.seqNo < o.seqNo));
        expect(oks.length).toBeGreaterThanOrEqual(40);
        expect(lost).toEqual([]);
      } finally {
        for (const store of stores) await store.close();
        for (const pool of pools) await endPool(pool);
      }
    });
  });
}
