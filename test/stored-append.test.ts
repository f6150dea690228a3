import { afterAll, describe, expect, it } from "vitest";
import { openStore, type RebaseResult, type Store } from "../src/index.js";
import { encodeIdentity } from "../src/model/codec.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import { storedAppendName } from "../src/sql/dialect.js";
import { storesNamed } from "./stores.js";
import { act, eff } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/** Text that any encoding of theirs must carry through: quotes, backslashes, control characters, beyond the BMP. */
const ODD = 'é"\\\u0001\u001f\u007f\n\t\u2028 😀 </x> \\u0041';

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

    it("answers a conflict in its one call as the full rules do: the first action on the aggregate since the base, as stored", async () => {
      const store = await factory.create();
      const memory = openStore("memory:");
      try {
        const both = async (base: number, events: Parameters<Store["rebase"]>[1]): Promise<RebaseResult> => {
          const [here, there] = [await store.rebase(base, events), await memory.rebase(base, events)];
          expect(here).toEqual(there);
          return here;
        };
        for (const id of [ODD, 7]) {
          const base = (await store.currentSeqNo()) + 1;
          expect((await both(base, [act(["acct", id], { assoc: { n: 0 } })])).result).toBe("ok");
          expect((await both(base + 1, [act(["acct", "other"])])).result).toBe("ok");
          // Theirs: odd text in every column, a patch of every kind, triggers with odd ids.
          const theirs = act(
            ["acct", id],
            { assoc: { [`key ${ODD}`]: [`value ${ODD}`, 1.5e300, -0, null, true, { k: ODD }] }, dissoc: [[ODD]] },
            {
              actor: [`kind ${ODD}`, `actor ${ODD}`],
              reason: `reason ${ODD}`,
              source: `source ${ODD}`,
              triggers: [
                ["key", ODD],
                ["key", 2 ** 53 - 1],
              ],
              timestamp: new Date(1),
            },
          );
          expect((await both(base + 2, [theirs])).result).toBe("ok");
          expect((await both(base + 3, [act(["acct", id], { assoc: { n: 3 } })])).result).toBe("ok");
          // Behind by three: the conflict is the first of the two since the base.
          const conflict = await both(base + 1, [act(["acct", id], { assoc: { n: 4 } })]);
          expect(conflict).toMatchObject({ result: "conflict", conflict: { theirs: { seqNo: base + 2 } } });
        }
      } finally {
        await memory.close();
      }
    });

    it("answers no conflict where an action of another aggregate shares the hash: the exact rules decide", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      expect((await store.rebase(1, [act(["acct", "b"], { assoc: { n: 0 } })])).result).toBe("ok");
      expect((await store.rebase(2, [act(["acct", "a"], { assoc: { n: 1 } })])).result).toBe("ok");
      await onDatabase(url, [
        `update actions set aggregate_hash = ${encodeIdentity(["acct", "b"]).hash} where seq_no = 2`,
      ]);
      // The routine's guard refuses for the hash, finds no action of "b" since the base, and answers none.
      expect(await store.rebase(2, [act(["acct", "b"], { assoc: { n: 2 } })])).toMatchObject({
        result: "ok",
        events: [{ seqNo: 3 }],
      });
      // Now one of "b" follows the one of "a": theirs is it, not the first of the hash.
      expect(await store.rebase(2, [act(["acct", "b"], { assoc: { n: 3 } })])).toMatchObject({
        result: "conflict",
        conflict: { theirs: { seqNo: 3, action: { aggregate: ["acct", "b"], patch: { assoc: { n: 2 } } } } },
      });
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
