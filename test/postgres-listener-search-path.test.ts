import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { EventStore } from "../src/event-store.js";
import { openStore } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act } from "./support/events.js";
import { admin, freshName, SERVER_URLS, withDatabase } from "./support/servers.js";

/**
 * A pool whose sessions choose their schema in its `connect` hook, as
 * node-postgres documents it. The listening connection is made with the
 * pool's settings but not through its hooks: the notifications of the
 * writers (which name their schema) must still be heard as the store's own.
 */
for (const _ of storesNamed("postgres")) {
  describe("PostgreSQL: a pool whose connect hook sets search_path", () => {
    const database = freshName("coherence_test_hook");
    afterAll(() => admin("postgres", [`drop database if exists ${database} with (force)`]));

    it("a commit through another pool wakes the store's watchers by notification", async () => {
      await admin("postgres", [`create database ${database}`]);
      const url = withDatabase(SERVER_URLS.postgres, database);
      await admin("postgres", ["create schema app"], url);
      const hooked = () => {
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        pool.on("error", () => {});
        pool.on("connect", (client) => void client.query("set search_path = app").catch(() => {}));
        return pool;
      };
      const [writerPool, watcherPool] = [hooked(), hooked()];
      const writer = openStore("postgres://", { pool: writerPool });
      const watcher = openStore("postgres://", { pool: watcherPool });
      let stop = () => {};
      try {
        await writer.initSchema();
        // The watch followers use to learn of other processes' commits, without their polling beside it.
        let notified = 0;
        const failed: unknown[] = [];
        stop =
          (watcher as unknown as EventStore).backend.watch?.(
            () => notified++,
            (error) => failed.push(error),
          ) ?? (() => {});
        // Until the LISTEN runs, a commit is not heard: commit until one is (or give up after 10 s).
        for (let i = 0; notified === 0 && i < 100; i++) {
          expect((await writer.rebase(i + 1, [act(["a", i])])).result).toBe("ok");
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(failed).toEqual([]);
        expect(notified).toBeGreaterThan(0);
      } finally {
        stop();
        await writer.close();
        await watcher.close();
        await writerPool.end();
        await watcherPool.end();
      }
    });
  });
}
