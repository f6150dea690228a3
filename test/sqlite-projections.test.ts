import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatabaseError,
  deleteProjection,
  listProjections,
  openStore,
  type Projection,
  rebuildProjection,
  runProjection,
  type Store,
} from "../src/index.js";
import { act } from "./support/events.js";

const dir = mkdtempSync(join(tmpdir(), "coherence-sqlite-projections-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `projection` until it is caught up with the store's head, or rejects. */
async function runUntilCaughtUp(store: Store, projection: Projection): Promise<void> {
  const head = await store.currentSeqNo();
  const controller = new AbortController();
  await runProjection(store, projection, {
    signal: controller.signal,
    onCaughtUp: (h) => h >= head && controller.abort(),
  });
}

/**
 * SQLite has one writer per file: a projection's batch holds the write lock
 * while `apply` runs. What `apply` calls on the store must not wait for it.
 */
for (const where of ["an in-memory database", "a file"]) {
  describe(`sqlite, ${where}: the store called from a projection's apply`, () => {
    const url = () => (where === "a file" ? `sqlite:${join(dir, `${Math.random()}.db`)}` : "sqlite::memory:");

    it("a read of the store returns (it waited for the projection's own transaction forever)", async () => {
      const store = openStore(url());
      await store.initSchema();
      expect((await store.rebase(1, [act(["book", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      const seen: unknown[] = [];
      await runUntilCaughtUp(store, {
        name: "reads",
        apply: async (e) => void seen.push(await store.aggregate(e.action.aggregate)),
      });
      expect(seen).toEqual([{ state: { n: 1 }, seqNo: 1 }]);
      expect((await listProjections(store)).map((p) => p.checkpoint)).toEqual([1]);
      await store.close();
    });

    it("a rebuild or delete of a projection rejects the runner with a DatabaseError", async () => {
      for (const admin of [rebuildProjection, deleteProjection] as const) {
        const store = openStore(url());
        await store.initSchema();
        expect((await store.rebase(1, [act(["book", 1], { assoc: { n: 1 } })])).result).toBe("ok");
        const other: Projection = { name: "other", apply: () => {} };
        const failed = await runUntilCaughtUp(store, {
          name: "admin",
          apply: async () => {
            await (admin === rebuildProjection ? rebuildProjection(store, other) : deleteProjection(store, "other"));
          },
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(failed).toBeInstanceOf(DatabaseError);
        await store.close();
      }
    });

    it("a write to the store rejects the runner with a DatabaseError, and its batch is not kept", async () => {
      const store = openStore(url());
      await store.initSchema();
      expect((await store.rebase(1, [act(["book", 1], { assoc: { n: 1 } })])).result).toBe("ok");
      const failed = await runUntilCaughtUp(store, {
        name: "writes",
        apply: async () => void (await store.rebase(2, [act(["book", 2], { assoc: { n: 2 } })])),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failed).toBeInstanceOf(DatabaseError);
      expect((failed as Error).message).toMatch(/inside a projection's apply/);
      expect((await listProjections(store)).map((p) => p.checkpoint)).toEqual([0]);
      // Outside apply, writes go on.
      expect((await store.rebase(2, [act(["book", 2], { assoc: { n: 2 } })])).result).toBe("ok");
      await store.close();
    });
  });
}
