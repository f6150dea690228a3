import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { encodeIdentity } from "../src/model/codec.js";
import { storesNamed } from "./stores.js";
import { act, collect, eff } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/**
 * The SQL stores find an aggregate's rows by a 53-bit hash of its identity and
 * compare kind and id exactly. Two identities can share a hash (a crafted id
 * can be found by a birthday search), so a rebase on one of them must not
 * report the other's changes as its conflicts. The collision is made here by
 * giving the stored rows of one aggregate the hash of another.
 */
for (const factory of storesNamed("sqlite", "postgres", "mysql")) {
  describe(`${factory.name}: an aggregate sharing its hash with a changed one`, () => {
    afterAll(() => factory.dispose());

    it("has no conflict: the rebase appends, and each aggregate reads back its own actions", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      // Seen by the writer below: nothing of "b" changes after it.
      expect((await store.rebase(1, [act(["acct", "b"], { assoc: { n: 0 } })])).result).toBe("ok");
      // Since then: an action on "a" with a trigger, and an effect on that trigger.
      expect(
        (await store.rebase(2, [act(["acct", "a"], { assoc: { n: 1 } }, { triggers: [["key", 1]] }), eff(["key", 1])]))
          .result,
      ).toBe("ok");
      const hashOfB = encodeIdentity(["acct", "b"]).hash;
      await onDatabase(url, [
        `update actions set aggregate_hash = ${hashOfB} where seq_no = 2`,
        `update triggers set aggregate_hash = ${hashOfB} where seq_no = 2`,
      ]);

      // A writer in another process (so none of the first's caches) that last saw seqNo 1.
      const writer = openStore(url);
      try {
        const rebased = await writer.rebase(2, [act(["acct", "b"], { assoc: { n: 2 } })]);
        expect(rebased).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        const conflicting = await writer.rebase(2, [act(["acct", "b"], { assoc: { n: 3 } })]);
        expect(conflicting).toMatchObject({ result: "conflict", conflict: { theirs: { seqNo: 4 } } });
      } finally {
        await writer.close();
      }
      expect(await store.aggregate(["acct", "b"])).toEqual({ state: { n: 2 }, seqNo: 4 });
      expect((await collect(store.stream({ aggregates: [["acct", "b"]] }))).map((a) => a.seqNo)).toEqual([1, 4]);
    });

    it("of the same id and another kind: each aggregate reads back its own actions", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      expect((await store.rebase(1, [act(["acct", "b"], { assoc: { n: 1 } })])).result).toBe("ok");
      expect((await store.rebase(2, [act(["user", "b"], { assoc: { u: 1 } })])).result).toBe("ok");
      await onDatabase(url, [
        `update actions set aggregate_hash = ${encodeIdentity(["acct", "b"]).hash} where seq_no = 2`,
      ]);
      const reader = openStore(url);
      try {
        expect(await reader.aggregate(["acct", "b"])).toEqual({ state: { n: 1 }, seqNo: 1 });
        expect((await collect(reader.stream({ aggregates: [["acct", "b"]] }))).map((a) => a.seqNo)).toEqual([1]);
      } finally {
        await reader.close();
      }
    });
  });
}
