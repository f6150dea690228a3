import fc from "fast-check";
import mysql from "mysql2";
import { format } from "sql-escaper";
import { afterAll, describe, expect, it } from "vitest";
import { type NewEvent, openStore, runProjection, type Store, type StoredAction } from "../src/index.js";
import { formatSql, type SqlMode, sqlModeOf } from "../src/sql/dialects/mysql/mysql-format.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { endPool, query } from "./support/mysql-pool.js";

const DEFAULT: SqlMode = { noBackslashEscapes: false, ansiQuotes: false };

/** Values that end a literal early where a backslash escapes nothing, and one that would then run SQL. */
const HOSTILE = [
  "it's",
  "back\\slash",
  "ends with \\",
  "\\'",
  "x\\'); drop table actions; -- ",
  "x'); drop table actions; -- ",
  '"double" `back` ?',
  "line\nbreak\ttab\r",
];

function history(): NewEvent[] {
  return HOSTILE.map((text, i) =>
    act(
      [`kind ${text}`, text],
      { assoc: { text, i } },
      { actor: ["user", text], reason: `r ${text}`, source: `s ${text}`, triggers: [[`key ${text}`, `${text}${i}`]] },
    ),
  );
}

/** A pool whose sessions run in `mode` (added to the server's), as an application's could. */
function poolIn(url: string, mode: string, multipleStatements: boolean): mysql.Pool {
  const pool = mysql.createPool({ uri: url, multipleStatements, connectionLimit: 2 });
  pool.on("connection", (connection) => {
    connection.query(`set session sql_mode = concat(@@session.sql_mode, ',${mode}')`);
  });
  return pool;
}

describe("formatSql: values written as sql-escaper writes them", () => {
  const fragments = fc.constantFrom(
    "?",
    "??",
    " ",
    "'",
    '"',
    "`",
    "\\",
    "-- ",
    "--",
    "#",
    "\n",
    "/*",
    "*/",
    "/*!",
    "a",
    "select",
    ",",
  );
  const statement = fc.array(fragments, { maxLength: 30 }).map((parts) => parts.join(""));
  const mode = fc.record({ noBackslashEscapes: fc.boolean(), ansiQuotes: fc.boolean() });

  it("the same text as `format` where every value is a number (any SQL, any mode); without values, the SQL as it is", () => {
    fc.assert(
      fc.property(statement, fc.array(fc.integer(), { maxLength: 8 }), mode, (sql, values, m) => {
        if (values.length === 0) {
          expect(formatSql(sql, values, m)).toBe(sql);
          return;
        }
        let expected: string;
        try {
          expected = format(sql, values, false, "local", m);
        } catch (error) {
          expect(() => formatSql(sql, values, m)).toThrow((error as Error).message);
          return;
        }
        expect(formatSql(sql, values, m)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("objects, Dates and Buffers (what ctx.sql may be given) are `format`'s", () => {
    const values = [new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), Buffer.from("hi"), [1, "a"], { a: 1 }, null, true];
    const sql = "insert into t values (?, ?, ?, ?, ?, ?)";
    expect(formatSql(sql, values, DEFAULT, "Z")).toBe(format(sql, values, false, "Z"));
  });

  it("sqlModeOf reads the flags out of any order and case", () => {
    expect(sqlModeOf("STRICT_TRANS_TABLES,no_backslash_escapes")).toEqual({
      noBackslashEscapes: true,
      ansiQuotes: false,
    });
    expect(sqlModeOf("ANSI_QUOTES")).toEqual({ noBackslashEscapes: false, ansiQuotes: true });
    expect(sqlModeOf("")).toEqual(DEFAULT);
    expect(sqlModeOf(null)).toEqual(DEFAULT);
  });
});

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: values are written for the session's sql_mode", () => {
    afterAll(() => factory.dispose());

    it("any string reads back unchanged in the default mode and under NO_BACKSLASH_ESCAPES", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      for (const mode of ["", "NO_BACKSLASH_ESCAPES"]) {
        const connection = mysql.createConnection({ uri: url });
        try {
          await query(connection, `set session sql_mode = concat(@@session.sql_mode, ',${mode}')`);
          const [row] = await query<{ m: string }[]>(connection, "select @@session.sql_mode as m");
          const m = sqlModeOf(row?.m);
          expect(m.noBackslashEscapes).toBe(mode !== "");
          // Lone surrogates are left out: UTF-8 cannot carry them (the store refuses them anyway).
          const text = fc.string({ unit: fc.constantFrom("'", "\\", '"', "\0", "\x1a", "\n", "?", "a", "é", "🎉") });
          await fc.assert(
            fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 4 }), async (values) => {
              const sql = `select ${values.map((_, i) => `? as v${i}`).join(", ")}`;
              const [read] = await query<Record<string, string>[]>(connection, formatSql(sql, values, m));
              expect(Object.values(read ?? {})).toEqual(values);
            }),
            { numRuns: 150 },
          );
        } finally {
          connection.end();
        }
      }
    });

    it("a pool with namedPlaceholders: values holding `:name` are written as they are", async () => {
      await factory.create();
      const pool = mysql.createPool({
        uri: factory.lastUrl as string,
        namedPlaceholders: true,
        multipleStatements: true,
      });
      const store: Store = openStore("mysql://", { pool });
      try {
        const patch = { assoc: { a: "x :name y", ":k": 1 } };
        const r = await store.rebase(1, [act(["acc", "a:b :c"], patch)]);
        expect(r.result).toBe("ok");
        expect(await store.aggregate(["acc", "a:b :c"])).toEqual({ state: patch.assoc, seqNo: 1 });
      } finally {
        await store.close();
        await endPool(pool);
      }
    });

    const modes: [string, boolean][] = [
      ["NO_BACKSLASH_ESCAPES", true],
      ["NO_BACKSLASH_ESCAPES", false],
      ["ANSI_QUOTES", true],
      ["ANSI_QUOTES,NO_BACKSLASH_ESCAPES", true],
    ];
    for (const [mode, multipleStatements] of modes) {
      it(`a pool whose sessions run with ${mode}${multipleStatements ? " (several statements a query)" : ""}: quotes and backslashes round-trip, no value runs as SQL`, async () => {
        await factory.create();
        const url = factory.lastUrl as string;
        const pool = poolIn(url, mode, multipleStatements);
        const store: Store = openStore("mysql://", { pool });
        try {
          const r = await store.rebase(1, history());
          expect(r.result).toBe("ok");
          const written = r.result === "ok" ? (r.events as StoredAction[]) : [];
          expect(written.map((e) => e.action.patch)).toEqual(HOSTILE.map((text, i) => ({ assoc: { text, i } })));
          expect(await collect(store.stream())).toEqual(written);
          for (const [i, text] of HOSTILE.entries()) {
            expect(await store.aggregate([`kind ${text}`, text])).toEqual({ state: { text, i }, seqNo: i + 1 });
            expect(await collect(store.stream({ aggregates: [[`kind ${text}`, text]] }))).toEqual([written[i]]);
          }
          // The conflict check compares the same values: a stale rebase on one of them conflicts.
          const stale = await store.rebase(1, [act([`kind ${HOSTILE[1]}`, HOSTILE[1] as string])]);
          expect(stale.result).toBe("conflict");
          await query(pool, "create table projected (v text not null)");
          const stop = new AbortController();
          await runProjection(
            store,
            {
              name: `p ${HOSTILE[4]}`,
              async apply(action, ctx) {
                const text = (action.action.patch as { assoc: { text: string } }).assoc.text;
                await ctx.sql?.run("insert into projected (v) values (?)", [text]);
              },
            },
            { signal: stop.signal, onCaughtUp: () => stop.abort() },
          );
          const projected: string[] = [];
          for (const row of await query<{ v: string }[]>(pool, "select v from projected")) projected.push(row.v);
          expect(projected.sort()).toEqual([...HOSTILE].sort());
          expect(await store.currentSeqNo()).toBe(HOSTILE.length);
        } finally {
          await store.close();
          await endPool(pool);
        }
      });
    }
  });
}
