import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_TABLES, type NewEvent, openStore, type Store, type StoredAction } from "../src/index.js";
import { MysqlDriver } from "../src/sql/dialects/mysql/mysql-driver.js";
import { derivedName } from "../src/sql/tables.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { endPool } from "./support/mysql-pool.js";

/** Text no single-byte character set holds, in every string the pages read. */
const TEXT = "Grüße, 東京 🎉 \u00a0\\\"'`";

function history(): NewEvent[] {
  return Array.from({ length: 60 }, (_, i) =>
    act(
      [`kind ${TEXT}`, i % 3 === 0 ? i : `${TEXT} ${i}`],
      { assoc: { text: TEXT, i } },
      { actor: ["user", TEXT], reason: `r ${TEXT}`, source: `s ${TEXT}`, triggers: [[`key ${TEXT}`, `${TEXT}${i}`]] },
    ),
  );
}

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB reads: the stream's pages read the same values whatever the pool's settings", () => {
    afterAll(() => factory.dispose());
    let url = "";
    let written: StoredAction[] = [];

    it("the store's own pool reads back what was written", async () => {
      const store = await factory.create();
      url = factory.lastUrl as string;
      const r = await store.rebase(1, history());
      expect(r.result).toBe("ok");
      written = r.result === "ok" ? (r.events as StoredAction[]) : [];
      expect(await collect(store.stream())).toEqual(written);
      expect(written[1]?.action.patch).toEqual({ assoc: { text: TEXT, i: 1 } });
    });

    const pools: [string, () => mysql.Pool][] = [
      ["a pool in latin1", () => mysql.createPool({ uri: url, charset: "LATIN1_SWEDISH_CI" })],
      ["a pool with a typeCast function", () => mysql.createPool({ uri: url, typeCast: (_field, next) => next() })],
      [
        "a pool whose connections switch to latin1 after they open",
        () => {
          const pool = mysql.createPool({ uri: url });
          pool.on("connection", (connection) => connection.query("set names latin1"));
          return pool;
        },
      ],
      [
        "a pool taking several statements a query whose connections switch to latin1",
        () => {
          const pool = mysql.createPool({ uri: url, multipleStatements: true });
          pool.on("connection", (connection) => connection.query("set names latin1"));
          return pool;
        },
      ],
      [
        "a pool with big numbers as strings",
        () => mysql.createPool({ uri: url, supportBigNumbers: true, bigNumberStrings: true }),
      ],
    ];
    for (const [name, make] of pools) {
      it(`${name}: stream, a filtered stream and aggregate() read the same`, async () => {
        const pool = make();
        const store: Store = openStore("mysql://", { pool });
        try {
          expect(await collect(store.stream())).toEqual(written);
          const aggregate = written[4]?.action.aggregate;
          if (aggregate === undefined) throw new Error("no aggregate");
          expect(await collect(store.stream({ aggregates: [aggregate] }))).toEqual([written[4]]);
          expect(await store.aggregate(aggregate)).toEqual({ state: { text: TEXT, i: 4 }, seqNo: 5 });
        } finally {
          await store.close();
          await endPool(pool);
        }
      });
    }

    it("more filter shapes than a connection keeps prepared read the same", async () => {
      const store = openStore(url, { mysql: { connectionLimit: 1 } });
      try {
        for (let n = 1; n <= 45; n++) {
          const wanted = written.slice(0, n);
          const aggregates = wanted.map((e) => e.action.aggregate);
          expect(await collect(store.stream({ aggregates }))).toEqual(wanted);
        }
      } finally {
        await store.close();
      }
    });

    it("values() of byte columns decodes them as UTF-8", async () => {
      const driver = new MysqlDriver(
        { url },
        { event: DEFAULT_TABLES.event, meta: derivedName(DEFAULT_TABLES, "meta") },
        "write-lock",
      );
      try {
        const rows = await driver.read(
          async (s) =>
            (await s.values?.({
              sql: "select seq_no, cast(source as binary) as source from actions where seq_no <= ? order by seq_no",
              parameters: [2],
            })) ?? [],
        );
        expect(rows).toEqual([
          [1, `s ${TEXT}`],
          [2, `s ${TEXT}`],
        ]);
      } finally {
        await driver.close();
      }
    });

    it("a database whose string columns an earlier release made binary: initSchema makes them text, the values unchanged", async () => {
      const pool = mysql.createPool({ uri: url });
      const query = (sql: string) =>
        new Promise<unknown>((resolve, reject) => pool.query(sql, (e, rows) => (e ? reject(e) : resolve(rows))));
      const textColumns = async () =>
        (await query(
          "select table_name as t, column_name as c, data_type as d, is_nullable as n from information_schema.columns where table_schema = database() and data_type in ('varchar', 'longtext', 'varbinary', 'longblob') order by table_name, column_name",
        )) as { t: string; c: string; d: string; n: string }[];
      try {
        const before = await textColumns();
        expect(before.length).toBeGreaterThan(20);
        expect(new Set(before.map((c) => c.d))).toEqual(new Set(["varchar", "longtext"]));
        // As the first release made them: varbinary(600) and longblob.
        for (const c of before) {
          const type = c.d === "varchar" ? "varbinary(600)" : "longblob";
          await query(`alter table \`${c.t}\` modify \`${c.c}\` ${type}${c.n === "YES" ? "" : " not null"}`);
        }
        expect(new Set((await textColumns()).map((c) => c.d))).toEqual(new Set(["varbinary", "longblob"]));

        const store = openStore(url);
        try {
          await store.initSchema();
          expect(await textColumns()).toEqual(before);
          expect(await collect(store.stream())).toEqual(written);
          const aggregate = written[4]?.action.aggregate;
          if (aggregate === undefined) throw new Error("no aggregate");
          expect(await store.aggregate(aggregate)).toEqual({ state: { text: TEXT, i: 4 }, seqNo: 5 });
          // Ids that differ only by a trailing space are still two aggregates.
          const r = await store.rebase(written.length + 1, [act(["pad", "a"]), act(["pad", "a "])]);
          expect(r.result).toBe("ok");
          expect(await store.aggregate(["pad", "a "])).toEqual({ state: { n: 1 }, seqNo: written.length + 2 });
        } finally {
          await store.close();
        }
      } finally {
        await endPool(pool);
      }
    });
  });
}
