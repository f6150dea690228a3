import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { type NewEvent, openStore, type Store, type StoredAction } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { endPool, query } from "./support/mysql-pool.js";

/** Beyond latin1 (€ is in MySQL's latin1, which is cp1252), beyond utf8mb3 (🎉), and plain accents. */
const TEXTS = ["é", "€", "🎉", "日本語", "Ω and 🎉 and é"];

function history(): NewEvent[] {
  return TEXTS.map((text, i) =>
    act(["book", text], { assoc: { text, i } }, { actor: ["user", text], reason: `r ${text}`, source: `s ${text}` }),
  );
}

/** Pools whose sessions do not talk utf8mb4: mysql2's `charset` option, or `SET NAMES` in the pool's hook. */
const POOLS: [string, (url: string) => mysql.Pool][] = [
  [
    "charset: 'UTF8_GENERAL_CI' (utf8mb3, the old mysql package's default)",
    (url) => mysql.createPool({ uri: url, charset: "UTF8_GENERAL_CI", connectionLimit: 2 }),
  ],
  [
    "charset: 'LATIN1_SWEDISH_CI'",
    (url) => mysql.createPool({ uri: url, charset: "LATIN1_SWEDISH_CI", connectionLimit: 2 }),
  ],
  [
    "SET NAMES latin1 in the pool's connection hook",
    (url) => {
      const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
      pool.on("connection", (connection) => connection.query("set names latin1"));
      return pool;
    },
  ],
];

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: pools whose sessions are not in utf8mb4", () => {
    afterAll(() => factory.dispose());

    for (const [name, make] of POOLS) {
      it(`${name}: what it writes reads back exactly, here and in a utf8mb4 store`, async () => {
        const reference = await factory.create();
        const pool = make(factory.lastUrl as string);
        const store: Store = openStore("mysql://", { pool });
        try {
          const r = await store.rebase(1, history());
          expect(r.result).toBe("ok");
          const written = r.result === "ok" ? (r.events as StoredAction[]) : [];
          expect(await collect(reference.stream())).toEqual(written);
          expect(await collect(store.stream())).toEqual(written);
          for (const [i, text] of TEXTS.entries()) {
            expect(await store.aggregate(["book", text])).toEqual({ state: { text, i }, seqNo: i + 1 });
          }
          // The pool's sessions are left as the application set them.
          const [row] = await query<{ results: string }[]>(pool, "select @@character_set_results as results");
          expect(row?.results).not.toBe("utf8mb4");
        } finally {
          await store.close();
          await endPool(pool);
        }
      });

      it(`${name}: a stale rebase on what a utf8mb4 process wrote is a conflict, with theirs exact`, async () => {
        const reference = await factory.create();
        const pool = make(factory.lastUrl as string);
        const store: Store = openStore("mysql://", { pool });
        try {
          const r = await reference.rebase(1, history());
          const written = r.result === "ok" ? (r.events as StoredAction[]) : [];
          for (const [i, text] of TEXTS.entries()) {
            const stale = await store.rebase(1, [act(["book", text])]);
            expect(stale.result).toBe("conflict");
            if (stale.result === "conflict") expect(stale.conflict.theirs).toEqual(written[i]);
            expect(await store.conflicts(1, ["book", text])).toEqual([written[i]]);
          }
          expect(await store.currentSeqNo()).toBe(TEXTS.length);
        } finally {
          await store.close();
          await endPool(pool);
        }
      });
    }
  });
}
