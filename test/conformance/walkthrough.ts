import { describe, expect, it } from "vitest";
import type { NewAction, NewEvent } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { collect, receipt } from "../support/events.js";

function book(actor: string, title: string, patch: NewAction["action"]["patch"], reason = "create"): NewEvent {
  return {
    timestamp: new Date(),
    source: "bookstore",
    action: { reason, actor: ["user", actor], aggregate: ["book", title], patch },
  };
}

/** SPEC section 6: the seed README's session gives exactly the results shown there. */
export function testWalkthrough(factory: StoreFactory): void {
  describe("the walkthrough (SPEC 6)", () => {
    it("gives the seed README's results, step by step", async () => {
      const store = await factory.create();
      const gibson = (genre: string) => ({ assoc: { author: "William Gibson", genre } });

      const alice = await store.rebase(1, [
        book("alice", "Neuromancer", gibson("SciFi")),
        book("alice", "Count Zero", gibson("Cyberpunk")),
      ]);
      expect(alice.result).toBe("ok");
      expect(alice.result === "ok" && alice.events.map((e) => e.seqNo)).toEqual([1, 2]);

      const bob = [
        book("bob", "Mona Lisa Overdrive", gibson("Cyberpunk")),
        book("bob", "Neuromancer", gibson("Cyberpunk")),
      ];
      const conflict = await store.rebase(1, bob);
      expect(conflict.result).toBe("conflict");
      if (conflict.result !== "conflict") return;
      expect(conflict.events.map((e) => e.seqNo)).toEqual([3]);
      expect(conflict.conflict.ours.seqNo).toBe(4);
      expect(conflict.conflict.theirs.seqNo).toBe(1);
      expect(conflict.conflict.theirs).toEqual({ ...(alice.result === "ok" && alice.events[0]) });

      const resolved = await store.rebase(
        1,
        [bob[0] as NewEvent, book("bob", "Neuromancer", { assoc: { genre: "Cyberpunk" } }, "update")],
        { resolved: [1] },
      );
      expect(resolved.result === "ok" && resolved.events.map((e) => e.seqNo)).toEqual([3, 4]);

      const receipts = await store.rebase(2, [
        receipt(1, "avd2dlg3g93fm1osu", 100),
        receipt(2, "kepf62djsdk8fw21", 200),
      ]);
      expect(receipts.result === "ok" && receipts.events.map((e) => e.seqNo)).toEqual([5, 6]);

      const expired = await store.rebase(6, [
        {
          timestamp: new Date(),
          source: "keystore",
          effect: { reason: "key-expired", trigger: ["encryption-key", 1] },
        },
      ]);
      expect(expired.result === "ok" && expired.events.map((e) => e.seqNo)).toEqual([7]);

      const replayed = (await collect(store.stream({ offset: 6 }))).map((e) => ({
        seqNo: e.seqNo,
        aggregate: e.action.aggregate,
      }));
      expect(replayed).toEqual([
        { seqNo: 5, aggregate: ["receipt", 1] },
        { seqNo: 6, aggregate: ["receipt", 2] },
      ]);
      expect(await store.currentSeqNo()).toBe(7);
      expect(await store.aggregate(["book", "Neuromancer"])).toEqual({
        state: { author: "William Gibson", genre: "Cyberpunk" },
        seqNo: 4,
      });
    });
  });
}
