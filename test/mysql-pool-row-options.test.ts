import { randomBytes } from "node:crypto";
import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { openKeystore, openStore, runProjection, type Store } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";

/** Options of an application's pool that change the shape of the rows mysql2 hands back. */
const OPTIONS: [string, mysql.PoolOptions][] = [
  ["typeCast: false", { typeCast: false }],
  ["nestTables: true", { nestTables: true }],
  ['nestTables: "_"', { nestTables: "_" }],
  ["rowsAsArray: true", { rowsAsArray: true }],
  ["rowsAsArray and several statements a query", { rowsAsArray: true, multipleStatements: true }],
];

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: an application's pool whose options change the rows' shape", () => {
    afterAll(() => factory.dispose());

    for (const [name, options] of OPTIONS) {
      it(`${name}: initSchema, rebases, conflicts, streams, aggregate(), keys and projections work`, async () => {
        // A fresh database; the store below makes its schema (other relation names) through the pool itself.
        await factory.create();
        const url = factory.lastUrl as string;
        const pool = mysql.createPool({ uri: url, connectionLimit: 2, ...options });
        const store: Store = openStore("mysql://", { pool, tables: { event: "e2", action: "a2" } });
        try {
          await store.initSchema();
          const r = await store.rebase(1, [act(["book", 1], { assoc: { a: 1 } })]);
          expect(r.result).toBe("ok");
          const stale = await store.rebase(1, [act(["book", 1], { assoc: { a: 2 } })]);
          expect(stale.result).toBe("conflict");
          expect(await store.aggregate(["book", 1])).toEqual({ state: { a: 1 }, seqNo: 1 });
          expect(await collect(store.stream())).toEqual(r.result === "ok" ? r.events : []);
          expect((await store.conflicts(1, ["book", 1])).map((e) => e.seqNo)).toEqual([1]);
          const keystore = openKeystore(store, { masterKey: randomBytes(32) });
          expect(await keystore.decrypt(["k", 1], await keystore.encrypt(["k", 1], "secret"))).toBe("secret");
          expect((await keystore.keys()).map((k) => k.trigger)).toEqual([["k", 1]]);
          const stop = new AbortController();
          let applied = 0;
          await runProjection(
            store,
            { name: "count", apply: () => void applied++ },
            { signal: stop.signal, onCaughtUp: () => stop.abort() },
          );
          expect(applied).toBe(1);
        } finally {
          await store.close();
          await new Promise<void>((resolve) => pool.end(() => resolve()));
        }
      });
    }
  });
}
