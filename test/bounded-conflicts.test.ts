import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../src/index.js";
import { encodeIdentity } from "../src/model/codec.js";
import {
  type FirstConflictRow,
  firstConflictsPerAggregateQuery,
  firstConflictsQuery,
} from "../src/sql/queries/first-conflicts.js";
import type { SqlBackend } from "../src/sql/sql-backend.js";
import { storesNamed } from "./stores.js";
import { act, eff } from "./support/events.js";

/** The SQL backend behind a store (the event store keeps it as `backend`). */
function backendOf(store: Store): SqlBackend {
  return (store as unknown as { backend: SqlBackend }).backend;
}

/**
 * The conflict check a refused rebase runs outside the write lock is bound by the head it
 * read: it finds what the check would have found when the store stood at that head, even
 * when writers committed since (SPEC section 2, rule 3, read at one head).
 */
for (const factory of storesNamed("sqlite", "postgres", "mysql")) {
  describe(`the conflict check bound by a head: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("an effect counts only through the triggers stored up to that head, and an action only up to it", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["agg", "a"])])).result).toBe("ok"); // 1: no trigger yet
      expect((await store.rebase(2, [eff(["key", 1])])).result).toBe("ok"); // 2: an effect on key 1
      // 3: the aggregate takes key 1: from here, the effect at 2 conflicts with it.
      expect((await store.rebase(3, [act(["agg", "a"], { assoc: { n: 2 } }, { triggers: [["key", 1]] })])).result).toBe(
        "ok",
      );
      const backend = backendOf(store);
      // The form of the check this store runs (PostgreSQL's is one probe per aggregate).
      const query =
        backend.dialect.conflictGuard === "per-aggregate" ? firstConflictsPerAggregateQuery : firstConflictsQuery;
      const first = (until?: number) =>
        backend.driver.read((s) =>
          s.all<FirstConflictRow>(query(backend.db, 2, [encodeIdentity(["agg", "a"])], [], until)),
        );
      const lowest = (rows: FirstConflictRow[]) => Math.min(...rows.map((r) => Number(r.seq_no)));
      // Unbound, and bound at 3: the effect at 2, through the trigger stored at 3.
      expect(lowest(await first())).toBe(2);
      expect(lowest(await first(3))).toBe(2);
      // At head 2 the aggregate carried no trigger and had no action since 2: no conflict.
      expect(await first(2)).toEqual([]);

      // And a refused rebase reports its conflict as of the head it read.
      const refused = await store.rebase(2, [act(["agg", "a"], { assoc: { n: 3 } })]);
      expect(refused).toMatchObject({
        result: "conflict",
        events: [],
        conflict: { ours: { seqNo: 4 }, theirs: { seqNo: 2 } },
      });
    });
  });
}
