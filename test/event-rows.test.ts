import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect, eff } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/**
 * Schema version 3: the event relation holds a row for each effect and for
 * the first and last event of each commit, not for the actions between.
 * What that must not change: a writer appending right after a head it saw is
 * refused when others committed since (the first seqNo of their commit is
 * taken), the head is the last event, and every event reads back whole.
 */
for (const factory of storesNamed("sqlite", "postgres", "mysql")) {
  describe(`${factory.name}: the event relation keeps the first and last event of each commit, and each effect`, () => {
    afterAll(() => factory.dispose());

    it("rows exist for exactly those; a stale writer is still refused, and every event reads back", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      // This writer sees head 1 and keeps it.
      expect((await store.rebase(1, [act(["a", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      // Another process commits a batch of five with an effect in its middle.
      const other = openStore(url);
      try {
        const batch = [
          act(["b", 1], { assoc: { n: 1 } }, { triggers: [["key", 1]] }),
          act(["b", 2], { assoc: { n: 1 } }),
          eff(["key", 1]),
          act(["b", 3], { assoc: { n: 1 } }),
          act(["b", 4], { assoc: { n: 1 } }),
        ];
        expect((await other.rebase(2, batch)).result).toBe("ok");
      } finally {
        await other.close();
      }
      const rows = await onDatabase(url, ["select seq_no from events order by seq_no"]);
      expect(rows.map((r) => Number(r.seq_no))).toEqual([1, 2, 4, 6]);

      // Appending right after head 1 would take seqNo 2: refused, then numbered after the head.
      const rebased = await store.rebase(2, [act(["c", 1], { assoc: { n: 1 } })]);
      expect(rebased).toMatchObject({ result: "ok", events: [{ seqNo: 7 }] });
      expect(await store.currentSeqNo()).toBe(7);
      const seqNos = (await collect(store.stream())).map((a) => a.seqNo);
      expect(seqNos).toEqual([1, 2, 3, 5, 6, 7]);
      // An effect and the actions around it read back whole (theirs of a conflict, conflicts()).
      const conflicts = await store.conflicts(2, ["b", 1]);
      expect(conflicts.map((e) => e.seqNo)).toEqual([2, 4]);
      expect(conflicts[1]).toMatchObject({ effect: { reason: "key-expired", trigger: ["key", 1] } });
      const conflict = await store.rebase(3, [act(["b", 3], { assoc: { n: 2 } })]);
      expect(conflict).toMatchObject({ result: "conflict", conflict: { theirs: { seqNo: 5, source: "test" } } });
    });
  });
}
