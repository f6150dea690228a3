import { randomBytes } from "node:crypto";
import mysql from "mysql2";
import { afterAll, describe, expect, it } from "vitest";
import { DatabaseError, openStore } from "../src/index.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import { MysqlDialect } from "../src/sql/dialects/mysql/mysql-dialect.js";
import { storesNamed } from "./stores.js";
import { act } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/** The routine `initSchema` makes for a one-action rebase (`StoredAppend`). */
const ROUTINE = new MysqlDialect().storedAppend.name(DEFAULT_TABLES);

/** The store's routines in the database of `url`. */
async function routines(url: string): Promise<string[]> {
  const rows = await onDatabase(url, [
    "select cast(routine_name as char) as name from information_schema.routines where routine_schema = database()",
  ]);
  return rows.map((r) => String(r.name));
}

/**
 * A user of the database of `url` with `grants` on it (and nothing else), for the
 * length of `fn`; `fn` gets the URL that connects as that user.
 */
async function asUser(
  url: string,
  grants: string,
  fn: (url: string) => Promise<void>,
  password = randomBytes(12).toString("hex"),
): Promise<void> {
  const user = `coh_${randomBytes(4).toString("hex")}`;
  const parsed = new URL(url);
  const database = parsed.pathname.slice(1);
  await onDatabase(url, [
    `create user '${user}'@'%' identified by '${password}'`,
    `grant ${grants} on \`${database}\`.* to '${user}'@'%'`,
  ]);
  try {
    const theirs = new URL(url);
    theirs.username = user;
    theirs.password = password;
    await fn(theirs.toString());
  } finally {
    await onDatabase(url, [`drop user '${user}'@'%'`]);
  }
}

const TABLE_RIGHTS = "select, insert, update, delete, create, drop, index, alter";

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: the stored routine of a one-action rebase", () => {
    afterAll(() => factory.dispose());

    it("initSchema makes it, and a second initSchema finds it made", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      expect(await routines(url)).toEqual([ROUTINE]);
      await store.initSchema();
      expect(await routines(url)).toEqual([ROUTINE]);
      expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
    });

    it("initSchema makes one for each of two stores whose relation names differ in case only", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const tables = { event: "Events", action: "Actions", effect: "Effects", trigger: "Triggers" };
      const upper = openStore(url, { tables });
      try {
        await upper.initSchema();
        expect((await routines(url)).sort()).toEqual([ROUTINE, new MysqlDialect().storedAppend.name(tables)].sort());
      } finally {
        await upper.close();
      }
    });

    it("answers its refusals as a row: a password that is a word of an error message changes nothing", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      await asUser(
        url,
        `${TABLE_RIGHTS}, execute`,
        async (theirs) => {
          const store = openStore(theirs);
          try {
            expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
            expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).result).toBe("conflict");
            expect(await store.rebase(5, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 2 });
          } finally {
            await store.close();
          }
        },
        "refused",
      );
    });

    it("a conflicting action the routine cannot have found is a DatabaseError, and nothing is written", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
      const text = "longtext character set utf8mb4";
      const planted = (theirs: string) => [
        `drop procedure if exists \`${ROUTINE}\``,
        `create procedure \`${ROUTINE}\`(in base bigint, in hash bigint, in stamp bigint, in src ${text}, in why ${text}, in actor_kind ${text}, in actor_id ${text}, in aggregate_kind ${text}, in aggregate_id ${text}, in patch ${text}) begin select 1 as head, 1 as refused, ${theirs} as theirs; end`,
      ];
      const row = (seqNo: number) => `'[${seqNo}, 0, "s", "r", "user", "1", "order", "1", "{}", null]'`;
      for (const theirs of [
        "'not json'",
        "'[1, 2]'",
        `'[1, "soon", "s", "r", "user", "1", "order", "1", "{}", null]'`,
        `'[1, 0, 7, "r", "user", "1", "order", "1", "{}", null]'`,
        row(0),
        row(2),
        `'[1, 0, "s", "r", 7, "1", "order", "1", "{}", null]'`,
      ]) {
        await onDatabase(url, planted(theirs));
        const writer = openStore(url);
        try {
          await expect(writer.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).rejects.toThrow(
            /the routine answered a conflicting action it cannot have found/,
          );
        } finally {
          await writer.close();
        }
      }
      // A well-formed one is the conflict.
      await onDatabase(url, planted(row(1)));
      const writer = openStore(url);
      try {
        expect(await writer.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).toMatchObject({
          result: "conflict",
          conflict: { theirs: { seqNo: 1, action: { actor: ["user", 1], aggregate: ["order", 1], patch: {} } } },
        });
      } finally {
        await writer.close();
      }
      expect(await store.currentSeqNo()).toBe(1);
    });

    it("is made under a sql_mode of its own, whatever the session's (ORACLE parses another syntax)", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      await onDatabase(url, [`drop procedure \`${ROUTINE}\``]);
      const pool = mysql.createPool({ uri: url, multipleStatements: true, connectionLimit: 2 });
      pool.on("connection", (connection) => {
        connection.query("set session sql_mode = 'ORACLE'");
      });
      const store = openStore("mysql://", { pool });
      try {
        await store.initSchema();
        const [made] = await onDatabase(url, [
          "select cast(sql_mode as char) as mode from information_schema.routines where routine_schema = database()",
        ]);
        expect(String(made?.mode)).toContain("STRICT_TRANS_TABLES");
        expect(String(made?.mode)).not.toContain("ORACLE");
        expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).result).toBe("conflict");
        // The session has its own sql_mode back.
        const mode = await new Promise<string>((resolve, reject) =>
          pool.query("select @@session.sql_mode as m", (e, rows) =>
            e ? reject(e) : resolve(String((rows as { m: string }[])[0]?.m)),
          ),
        );
        expect(mode).toContain("ORACLE");
      } finally {
        await store.close();
        await new Promise<void>((resolve) => pool.end(() => resolve()));
      }
    });

    it("a user who may not create routines: initSchema goes on without it, and rebases take the statements", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      await onDatabase(url, [`drop procedure \`${ROUTINE}\``]);
      await asUser(url, TABLE_RIGHTS, async (theirs) => {
        const store = openStore(theirs);
        try {
          await store.initSchema();
          expect(await routines(url)).toEqual([]);
          expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
          expect((await store.rebase(1, [act(["order", 2])])).result).toBe("ok");
          const c = await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })]);
          expect(c).toMatchObject({ result: "conflict", conflict: { ours: { seqNo: 3 }, theirs: { seqNo: 1 } } });
          expect(await store.currentSeqNo()).toBe(2);
        } finally {
          await store.close();
        }
      });
    });

    it("a user who may not run it (no EXECUTE): rebases take the statements", async () => {
      const owner = await factory.create();
      const url = factory.lastUrl as string;
      expect((await owner.rebase(1, [act(["order", 1])])).result).toBe("ok");
      await asUser(url, TABLE_RIGHTS, async (theirs) => {
        const store = openStore(theirs);
        try {
          expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
          expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).result).toBe("conflict");
          expect(await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })])).toMatchObject({
            result: "ok",
            events: [{ seqNo: 3 }],
          });
        } finally {
          await store.close();
        }
      });
      expect(await owner.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 3 });
    });

    it("without the write-lock row every write is a DatabaseError that wrote nothing, and holds no lock", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
      const meta = `${DEFAULT_TABLES.event}_meta`;
      await onDatabase(url, [`delete from \`${meta}\` where \`name\` = 'write-lock'`]);
      const missing = /write-lock row is missing: run initSchema\(\) first/;
      // On the head the writer saw (the lock, the rows and COMMIT in one query), then behind it: one action
      // (the routine), two (one query with the head and the guard), and the full rules of an id.
      for (const [base, history, options] of [
        [2, [act(["order", 2])], {}],
        [1, [act(["order", 3])], {}],
        [1, [act(["order", 4]), act(["order", 5])], {}],
        [1, [act(["order", 6])], { id: "with-an-id" }],
      ] as const) {
        const failed = store.rebase(base, [...history], options);
        await expect(failed).rejects.toThrow(DatabaseError);
        await expect(failed).rejects.toThrow(missing);
        expect(await store.currentSeqNo()).toBe(1);
      }
      // Nothing holds the lock now: the row back, writes go on.
      await onDatabase(url, [`insert into \`${meta}\` (\`name\`, \`value\`) values ('write-lock', 0)`]);
      expect((await store.rebase(2, [act(["order", 2])])).result).toBe("ok");
      expect((await store.rebase(1, [act(["order", 3])])).result).toBe("ok");
      expect(await store.currentSeqNo()).toBe(3);
    });
  });
}
