import { afterAll, describe, expect, it } from "vitest";
import type { TableNames } from "../src/index.js";
import { ownNames, resolveTables } from "../src/sql/tables.js";
import { storesNamed } from "./stores.js";
import { onDatabase } from "./support/raw-sql.js";

/**
 * `ownNames` is what `options.tables` may not take (a `reserved-name`
 * error): it must hold every name the store gives a relation, index or
 * constraint of its own, or a configuration that passes validation could
 * still collide with one in `initSchema()`. These read back what each
 * database holds after `initSchema()`.
 */
const OBJECTS: Record<string, string> = {
  sqlite: "select name from sqlite_master where name not like 'sqlite_autoindex_%'",
  postgres:
    "select relname as name from pg_class where relnamespace = current_schema()::regnamespace and relkind in ('r', 'i', 'S', 'v') union select conname from pg_constraint where connamespace = current_schema()::regnamespace",
  mysql:
    "select table_name as name from information_schema.tables where table_schema = database() union select index_name from information_schema.statistics where table_schema = database() and index_name <> 'PRIMARY' union select constraint_name from information_schema.table_constraints where table_schema = database() and constraint_name <> 'PRIMARY'",
};

const RENAMED: Partial<TableNames> = {
  event: `E${"v".repeat(60)}s`,
  action: "act",
  effect: `f${"x".repeat(62)}`,
  trigger: "Trig",
};

for (const factory of storesNamed(...Object.keys(OBJECTS))) {
  describe(`${factory.name}: the names of the store's own relations and indexes`, () => {
    afterAll(() => factory.dispose());

    for (const [title, tables] of [
      ["default relations", undefined],
      ["renamed relations, some of 63 characters", RENAMED],
    ] as const) {
      it(`${title}: every object initSchema made is one of the four relations or in ownNames`, async () => {
        const store = await factory.create(tables === undefined ? {} : { tables });
        await store.initSchema();
        const resolved = resolveTables(tables);
        const allowed = new Set([...Object.values(resolved), ...ownNames(resolved)].map((name) => name.toLowerCase()));
        const rows = await onDatabase(factory.lastUrl as string, [OBJECTS[factory.name] as string]);
        const names = rows.map((row) => String(row.name ?? row.NAME));
        expect(names.length).toBeGreaterThanOrEqual(8);
        expect(names.filter((name) => !allowed.has(name.toLowerCase()))).toEqual([]);
        for (const name of Object.values(resolved)) expect(names).toContain(name);
      });
    }
  });
}
