import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { endPool, query } from "./support/mysql-pool.js";

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: the application's connections come back as they were lent", () => {
    afterAll(() => factory.dispose());

    it("a latin1 pool whose connection the application switched to utf8mb4 after the store's first use keeps utf8mb4 results", async () => {
      await factory.create();
      const pool = mysql.createPool({
        uri: factory.lastUrl as string,
        connectionLimit: 1,
        charset: "latin1_swedish_ci",
      });
      const store = openStore("mysql://", { pool, tables: { event: "e2", action: "a2", effect: "f2", trigger: "t2" } });
      try {
        // The store reads the session's latin1 results here, on the pool's one connection.
        await store.initSchema();
        // The application's own choice, later, on the same connection.
        await query(pool, "set names utf8mb4");
        expect((await query<{ s: string }[]>(pool, "select '🎉' as s"))[0]?.s).toBe("🎉");
        expect((await store.rebase(1, [act(["a", 1])])).result).toBe("ok");
        await collect(store.stream());
        const [row] = await query<{ results: string; s: string }[]>(
          pool,
          "select @@session.character_set_results as results, '🎉' as s",
        );
        // The store set back the latin1 it had read first: the application then read '?'.
        expect(row).toEqual({ results: "utf8mb4", s: "🎉" });
      } finally {
        await store.close();
        await endPool(pool);
      }
    });
  });
}
