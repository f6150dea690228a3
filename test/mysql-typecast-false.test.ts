import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { storeFactories } from "./stores.js";
import { act, collect } from "./support/events.js";

for (const factory of storeFactories().filter((f) => f.name === "mysql")) {
  describe("MySQL/MariaDB: an application's pool with typeCast: false", () => {
    afterAll(() => factory.dispose());

    it("streams and aggregate() read what was written", async () => {
      await factory.create();
      const pool = mysql.createPool({ uri: factory.lastUrl as string, typeCast: false, connectionLimit: 2 });
      const store: Store = openStore("mysql://", { pool });
      try {
        const r = await store.rebase(1, [act(["book", 1], { assoc: { a: 1 } })]);
        expect(r.result).toBe("ok");
        expect(await store.aggregate(["book", 1])).toEqual({ state: { a: 1 }, seqNo: 1 });
        expect(await collect(store.stream())).toEqual(r.result === "ok" ? r.events : []);
      } finally {
        await store.close();
        await new Promise<void>((resolve) => pool.end(() => resolve()));
      }
    });
  });
}
