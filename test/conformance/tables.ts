import { describe, expect, it } from "vitest";
import type { TableNames } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect, eff } from "../support/events.js";
import { seqNos } from "../support/store-state.js";

/** SPEC section 4: `options.tables` renames the four relations. */
export function testTables(factory: StoreFactory): void {
  describe("tables: renamed relations work like the default ones", () => {
    it("rebase, conflicts, replay and aggregate on renamed relations, next to a store with the defaults", async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      const tables: TableNames = {
        event: `Ev_${suffix}`,
        action: `act_${suffix}`,
        effect: `EFF_${suffix}`,
        trigger: `t${"x".repeat(56)}${suffix}`,
      };
      expect(tables.trigger).toHaveLength(63);
      const renamed = await factory.create({ tables });
      await renamed.initSchema();
      const r = await renamed.rebase(1, [act(["b", 1], { assoc: { a: 1 } }, { triggers: [["k", 1]] }), act(["b", 2])]);
      expect(r.result).toBe("ok");
      expect((await renamed.rebase(3, [eff(["k", 1])])).result).toBe("ok");
      const c = await renamed.rebase(2, [act(["b", 1])]);
      expect(c.result === "conflict" && c.conflict.theirs.seqNo).toBe(3);
      expect(seqNos(await collect(renamed.stream({ offset: 3 })))).toEqual([1]);
      expect(seqNos(await renamed.conflicts(1, ["b", 1]))).toEqual([1, 3]);
      expect(await renamed.aggregate(["b", 1])).toEqual({ state: { a: 1 }, seqNo: 1 });
      expect(await renamed.currentSeqNo()).toBe(3);
    });

    it("names next to the store's own ones", async () => {
      const store = await factory.create({ tables: { action: "events_metadata", effect: "actions_identities" } });
      expect((await store.rebase(1, [act(["b", 1], undefined, { triggers: [["k", 1]] }), eff(["k", 1])])).result).toBe(
        "ok",
      );
      expect(seqNos(await collect(store.stream({ offset: 2 })))).toEqual([1]);
    });

    // Kysely runs a plugin on a subquery when it is embedded and again on the whole query: a rename
    // applied twice sent `actions` to `events` and on to the event relation's new name.
    for (const tables of [
      { event: "actions", action: "events", effect: "triggers", trigger: "effects" },
      { event: "log", action: "events" },
      { action: "meta", effect: "rebases", trigger: "keys", event: "projections" },
    ] satisfies Partial<TableNames>[]) {
      it(`the default names given to other relations: ${JSON.stringify(tables)}`, async () => {
        const store = await factory.create({ tables });
        const first = [act(["b", 1], { assoc: { a: 1 } }, { triggers: [["k", 1]] }), act(["b", 2]), eff(["k", 1])];
        expect((await store.rebase(1, first)).result).toBe("ok");
        // Behind the head: the conflict guards and the conflict's own queries.
        const c = await store.rebase(2, [act(["b", 1])]);
        expect(c.result === "conflict" && c.conflict.theirs.seqNo).toBe(3);
        expect((await store.rebase(3, [act(["b", 2], { assoc: { x: 1 } })])).result).toBe("ok");
        expect(seqNos(await collect(store.stream({ offset: 3 })))).toEqual([1, 4]);
        expect(seqNos(await store.conflicts(1, ["b", 1]))).toEqual([1, 3]);
        expect(await store.aggregate(["b", 2])).toEqual({ state: { n: 1, x: 1 }, seqNo: 4 });
        expect(await store.currentSeqNo()).toBe(4);
      });
    }

    it("only some relations renamed", async () => {
      const store = await factory.create({ tables: { effect: "expiries" } });
      expect((await store.rebase(1, [act(["b", 1], undefined, { triggers: [["k", 1]] }), eff(["k", 1])])).result).toBe(
        "ok",
      );
      expect(seqNos(await collect(store.stream({ offset: 2 })))).toEqual([1]);
    });
  });

  describe("tables: names must match ^[A-Za-z_][A-Za-z0-9_]{0,62}$ and be distinct ignoring case", () => {
    const bad: [string, Record<string, unknown>, string, string][] = [
      ["a leading digit", { event: "1events" }, "invalid-name", "options.tables.event"],
      ["a hyphen", { action: "my-actions" }, "invalid-name", "options.tables.action"],
      ["a space", { effect: "my effects" }, "invalid-name", "options.tables.effect"],
      ["SQL in the name", { trigger: 'x"; DROP TABLE events; --' }, "invalid-name", "options.tables.trigger"],
      ["an empty name", { event: "" }, "invalid-name", "options.tables.event"],
      ["64 characters", { event: "e".repeat(64) }, "invalid-name", "options.tables.event"],
      ["a non-ASCII letter", { event: "événements" }, "invalid-name", "options.tables.event"],
      ["a dot", { event: "public.events" }, "invalid-name", "options.tables.event"],
      ["a number", { event: 5 }, "invalid-name", "options.tables.event"],
      ["null", { event: null }, "invalid-name", "options.tables.event"],
      ["two equal names", { event: "same", effect: "same" }, "not-distinct", "options.tables.effect"],
      ["equal ignoring case", { event: "Log", trigger: "LOG" }, "not-distinct", "options.tables.trigger"],
      ["a default name taken ignoring case", { event: "Actions" }, "not-distinct", "options.tables.event"],
      ["a typo'd relation", { events: "e" }, "unknown-key", "options.tables.events"],
      ["the store's meta relation", { action: "events_meta" }, "reserved-name", "options.tables.action"],
      ["the keystore's relation, ignoring case", { trigger: "EVENTS_KEYS" }, "reserved-name", "options.tables.trigger"],
      [
        "the rebase records of a renamed log",
        { event: "log", effect: "log_rebases" },
        "reserved-name",
        "options.tables.effect",
      ],
      ["the triggers' primary key", { event: "triggers_pk" }, "reserved-name", "options.tables.event"],
      ["SQLite's index of the actions", { event: "actions_identity" }, "reserved-name", "options.tables.event"],
      ["the servers' index of the actions", { event: "actions_aggregate" }, "reserved-name", "options.tables.event"],
      ["PostgreSQL's name of a primary key", { trigger: "events_pkey" }, "reserved-name", "options.tables.trigger"],
      ["a name SQLite keeps", { event: "sqlite_events" }, "reserved-name", "options.tables.event"],
    ];
    for (const [name, tables, code, path] of bad) {
      it(`${name}: ValidationError ${code} at ${path}`, async () => {
        await expect(factory.create({ tables: tables as Partial<TableNames> })).rejects.toMatchObject({
          name: "ValidationError",
          code,
          path,
        });
      });
    }
  });
}
