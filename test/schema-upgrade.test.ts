import { afterAll, describe, expect, it } from "vitest";
import { DatabaseError, openStore, type Store } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect, eff, T0 } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/** Everything a reader sees of the history {@link write} makes. */
async function reads(store: Store) {
  return {
    stream: await collect(store.stream()),
    replay: await collect(store.stream({ offset: 4 })),
    filtered: await collect(store.stream({ aggregates: [["order", "b"]] })),
    order: await store.aggregate(["order", 1]),
    conflicts: await store.conflicts(1, ["order", 1]),
    head: await store.currentSeqNo(),
  };
}

/** Actions with their own timestamps and sources, a trigger, an effect on it. */
async function write(store: Store): Promise<void> {
  const at = (ms: number) => new Date(T0.getTime() + ms);
  const first = [
    act(["order", 1], { assoc: { n: 1 } }, { timestamp: at(1), source: "web", triggers: [["key", 1]] }),
    act(["order", "b"], { assoc: { n: 1 } }, { timestamp: at(2), source: "cli" }),
    act(["order", 2], { assoc: { n: 1 } }, { timestamp: at(3), source: "späť ✓" }),
  ];
  expect((await store.rebase(1, first)).result).toBe("ok");
  expect((await store.rebase(4, [eff(["key", 1])])).result).toBe("ok");
  expect((await store.rebase(5, [act(["order", 1], { assoc: { n: 2 } }, { timestamp: at(5) })])).result).toBe("ok");
}

/** The columns schema version 2 added, as the database describes them: name and nullability. */
function eventColumns(name: string): string {
  if (name === "sqlite") {
    return `select name, "notnull" = 0 as nullable from pragma_table_info('actions') where name in ('timestamp', 'source') order by name`;
  }
  const schema = name === "postgres" ? "current_schema()" : "database()";
  return `select column_name as name, is_nullable = 'YES' as nullable from information_schema.columns where table_schema = ${schema} and table_name = 'actions' and column_name in ('timestamp', 'source') order by 1`;
}

/**
 * Statements that take a store's relations back to schema version 1, where
 * the event relation has a row for every event (version 3 keeps one for the
 * first and last event of each commit) and the action relation none of their
 * timestamps and sources.
 */
function downgrade(name: string): string[] {
  const q = (n: string) => (name === "mysql" ? `\`${n}\`` : `"${n}"`);
  const rows = `insert into events (seq_no, ${q("timestamp")}, source) select seq_no, ${q("timestamp")}, source from actions a where not exists (select 1 from events e where e.seq_no = a.seq_no)`;
  const drops =
    name === "sqlite"
      ? [`alter table actions drop column ${q("timestamp")}`, `alter table actions drop column ${q("source")}`]
      : [`alter table actions drop column ${q("timestamp")}, drop column ${q("source")}`];
  return [rows, ...drops, "update events_meta set value = 1 where name = 'schema-version'"];
}

for (const factory of storesNamed("sqlite", "postgres", "mysql")) {
  describe(`${factory.name}: initSchema upgrades schema version 1 to 3`, () => {
    afterAll(() => factory.dispose());

    it("copies each event's timestamp and source into the action relation, NOT NULL; reads answer as before", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      await write(store);
      const before = await reads(store);
      await onDatabase(url, downgrade(factory.name));
      expect(await onDatabase(url, [eventColumns(factory.name)])).toEqual([]);
      // A release that needs version 2 or later cannot read version 1 until initSchema has run.
      await expect(collect(store.stream())).rejects.toBeInstanceOf(DatabaseError);

      // Four stores upgrade at once: one does it, the others find it done.
      const others = [1, 2, 3].map(() => openStore(url));
      try {
        await Promise.all([store, ...others].map((s) => s.initSchema()));
      } finally {
        await Promise.all(others.map((s) => s.close()));
      }
      await store.initSchema();
      const columns = await onDatabase(url, [eventColumns(factory.name)]);
      expect(columns.map((c) => [String(c.name).trim(), Boolean(Number(c.nullable))])).toEqual([
        ["source", false],
        ["timestamp", false],
      ]);
      expect(await onDatabase(url, ["select value from events_meta where name = 'schema-version'"])).toEqual([
        { value: factory.name === "postgres" ? "3" : 3 },
      ]);
      expect(await reads(store)).toEqual(before);
      expect(before.stream.map((a) => a.source)).toEqual(["web", "cli", "späť ✓", "test"]);

      const later = new Date(T0.getTime() + 9);
      expect((await store.rebase(6, [act(["order", 1], { assoc: { n: 3 } }, { timestamp: later })])).result).toBe("ok");
      const [last] = await collect(store.stream({ offset: 6 }));
      expect(last).toMatchObject({ seqNo: 6, timestamp: later, source: "test" });
      expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 3 }, seqNo: 6 });
    });

    it("refuses a schema newer than this release before changing anything", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      await write(store);
      // Version 4 without the columns: this release's upgrade would add them back.
      await onDatabase(url, [
        ...downgrade(factory.name),
        "update events_meta set value = 4 where name = 'schema-version'",
      ]);
      const failure = await store.initSchema().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DatabaseError);
      expect(failure).toMatchObject({ code: "schema-version" });
      expect(String((failure as Error).message)).toContain("version 4");
      expect(await onDatabase(url, [eventColumns(factory.name)])).toEqual([]);
    });

    if (factory.name === "sqlite") {
      it("makes the action relation anew: its indexes are there, the old one is gone", async () => {
        const store = await factory.create();
        const url = factory.lastUrl as string;
        await write(store);
        const objects = "select type, name, tbl_name from sqlite_master where name like 'actions%' order by name";
        const made = await onDatabase(url, [objects]);
        await onDatabase(url, downgrade(factory.name));
        await store.initSchema();
        expect(await onDatabase(url, [objects])).toEqual(made);
        expect(made.map((o) => o.name)).toContain("actions_identity");
        expect((await collect(store.stream())).length).toBe(4);
      });
    } else {
      it("finishes an upgrade cut short after the columns were added", async () => {
        const store = await factory.create();
        const url = factory.lastUrl as string;
        await write(store);
        const before = await reads(store);
        const type = factory.name === "postgres" ? "text" : "varchar(600)";
        await onDatabase(url, [
          ...downgrade(factory.name),
          `alter table actions add column timestamp bigint, add column source ${type}`,
        ]);
        // Rows without the columns are reported, never read as the epoch.
        const failure = await collect(store.stream()).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(DatabaseError);
        expect(failure).toMatchObject({ code: "schema-version" });
        await store.initSchema();
        expect(await reads(store)).toEqual(before);
      });
    }
  });
}
