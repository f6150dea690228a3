import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import { storedAppendName } from "../src/sql/dialect.js";
import { storesNamed } from "./stores.js";
import { act, eff } from "./support/events.js";

// The guard of the routine `initSchema` makes for a one-action rebase (`StoredAppend`) is coarser
// than the rules: what it refuses, the exact rules decide.
for (const factory of storesNamed("postgres", "mysql")) {
  describe(`${factory.name}: the stored routine of a one-action rebase`, () => {
    afterAll(() => factory.dispose());

    it("refuses for any effect since the base (then the exact rules decide) and for a base past the head", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["order", 1], undefined, { triggers: [["key", 1]] })])).result).toBe("ok");
      expect((await store.rebase(2, [eff(["key", 2])])).result).toBe("ok");
      // An effect on a trigger order 1 does not carry: no conflict.
      expect(await store.rebase(2, [act(["order", 1], { assoc: { n: 2 } })])).toMatchObject({
        result: "ok",
        events: [{ seqNo: 3 }],
      });
      expect(await store.rebase(5, [act(["order", 1])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 4 });
      expect(await store.currentSeqNo()).toBe(3);
    });

    it("stores whose relation names differ in case only each have a routine of their own", async () => {
      const lower = await factory.create();
      const tables = { event: "Events", action: "Actions", effect: "Effects", trigger: "Triggers" };
      const upper = openStore(factory.lastUrl as string, { tables });
      try {
        await upper.initSchema();
        expect(storedAppendName(tables)).not.toBe(storedAppendName(DEFAULT_TABLES));
        expect((await lower.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect(await upper.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 1 }] });
        expect(await upper.rebase(1, [act(["order", 3])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
        expect([await lower.currentSeqNo(), await upper.currentSeqNo()]).toEqual([1, 2]);
        expect(await lower.aggregate(["order", 2])).toBeUndefined();
      } finally {
        await upper.close();
      }
    });
  });
}
