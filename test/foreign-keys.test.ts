import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { legacyForeignKeys } from "../src/sql/queries/create-schema.js";
import { resolveTables } from "../src/sql/tables.js";
import { sqliteFactory, storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/** The foreign keys an earlier release made: `[relation, constraint, column, referenced relation]`. */
const tables = resolveTables(undefined);
const LEGACY: [string, string, string, string][] = legacyForeignKeys(tables).map(([table, name]) => [
  table,
  name,
  table === tables.trigger ? tables.action : tables.event,
  table.endsWith("_rebases") ? "first_seq_no" : "seq_no",
]);

const FOREIGN_KEYS = (schema: string) =>
  `select table_name as t, constraint_name as c from information_schema.table_constraints where constraint_type = 'FOREIGN KEY' and table_schema = ${schema} order by 1`;

for (const factory of storesNamed("postgres", "mysql")) {
  const schema = factory.name === "postgres" ? "current_schema()" : "database()";
  const q = (name: string) => (factory.name === "postgres" ? `"${name}"` : `\`${name}\``);

  describe(`${factory.name}: the relations have no foreign keys`, () => {
    afterAll(() => factory.dispose());

    it("a new store has none; initSchema drops those of earlier releases, and the store goes on", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 1 } }, { triggers: [["key", 1]] })])).result).toBe(
        "ok",
      );
      expect(await onDatabase(url, [FOREIGN_KEYS(schema)])).toEqual([]);

      // The schema as an earlier release left it.
      const legacy = LEGACY.map(
        ([table, name, parent, column]) =>
          `alter table ${q(table)} add constraint ${q(name)} foreign key (${column}) references ${q(parent)} (seq_no)`,
      );
      const made = await onDatabase(url, [...legacy, FOREIGN_KEYS(schema)]);
      expect(made).toHaveLength(4);

      await store.initSchema();
      expect(await onDatabase(url, [FOREIGN_KEYS(schema)])).toEqual([]);
      // Idempotent.
      await store.initSchema();
      expect((await store.rebase(2, [act(["order", 1], { assoc: { n: 2 } })])).result).toBe("ok");
      expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 2 });
      expect((await collect(store.stream())).map((a) => a.seqNo)).toEqual([1, 2]);
    });
  });
}

describe("sqlite: the relations have no foreign keys", () => {
  const factory = sqliteFactory();
  afterAll(() => factory.dispose());

  it("a new store has none", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).replace(/^sqlite:/, "");
    expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      for (const table of Object.values(tables)) {
        expect(db.prepare(`select * from pragma_foreign_key_list('${table}')`).all()).toEqual([]);
      }
    } finally {
      db.close();
    }
    const reopened = openStore(`sqlite:${path}`);
    expect(await reopened.aggregate(["order", 1])).toEqual({ state: { n: 1 }, seqNo: 1 });
    await reopened.close();
  });
});
