import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect } from "../support/events.js";

/** Issue 4: `rebase(base, history, { id })` is idempotent. */
export function testIdempotentRebase(factory: StoreFactory): void {
  describe("idempotent rebase (options.id)", () => {
    it("a retry with the same id and history returns the original ok result and writes nothing", async () => {
      const store = await factory.create();
      const history = [act(["book", 1]), act(["book", 2])];
      const first = await store.rebase(1, history, { id: "order-7" });
      expect(first.result).toBe("ok");
      await store.rebase(3, [act(["book", 3])]);
      const retry = await store.rebase(1, history, { id: "order-7" });
      expect(retry).toEqual(first);
      expect(await store.currentSeqNo()).toBe(3);
      expect((await collect(store.stream())).map((e) => e.seqNo)).toEqual([1, 2, 3]);
    });

    it("a retry is answered even when its base is stale or too high now", async () => {
      const store = await factory.create();
      const history = [act(["book", 1])];
      const first = await store.rebase(1, history, { id: "x" });
      await store.rebase(2, [act(["book", 1])]);
      expect(await store.rebase(1, history, { id: "x" })).toEqual(first);
      expect(await store.rebase(99, history, { id: "x" })).toEqual(first);
    });

    it("the same id with another history is a ValidationError and writes nothing", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["book", 1])], { id: "x" });
      const reuse = store.rebase(2, [act(["book", 2])], { id: "x" });
      await expect(reuse).rejects.toBeInstanceOf(ValidationError);
      await expect(reuse).rejects.toMatchObject({ code: "id-reused", path: "options.id" });
      expect(await store.currentSeqNo()).toBe(1);
    });

    it("an id is recorded only when the rebase commits: not by a conflict or a dry run", async () => {
      const store = await factory.create();
      await store.rebase(1, [act(["book", 1])]);
      const conflict = await store.rebase(1, [act(["book", 1])], { id: "y" });
      expect(conflict.result).toBe("conflict");
      const dry = await store.rebase(2, [act(["book", 2])], { id: "y", dry: true });
      expect(dry.result).toBe("ok");
      expect(await store.currentSeqNo()).toBe(1);
      const real = await store.rebase(1, [act(["book", 1])], { id: "y", resolved: [1] });
      expect(real.result === "ok" && real.events.map((e) => e.seqNo)).toEqual([2]);
    });

    it("rejects an id that is empty, too long or not a string", async () => {
      const store = await factory.create();
      for (const id of ["", "x".repeat(201), 5, "a\u0000b"]) {
        await expect(store.rebase(1, [act(["book", 1])], { id } as never)).rejects.toMatchObject({
          name: "ValidationError",
          path: "options.id",
        });
      }
      expect(await store.currentSeqNo()).toBe(0);
    });
  });
}
