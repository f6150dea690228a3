import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storeFactories } from "./stores.js";

for (const factory of storeFactories().filter((f) => f.name === "postgres")) {
  describe("PostgreSQL: the LISTEN connection goes back to the pool as it came", () => {
    afterAll(() => factory.dispose());

    it("after 12 followers came and went, the pool's two clients carry none of their listeners", async () => {
      await (await factory.create()).initSchema();
      const pool = new pg.Pool({ connectionString: factory.lastUrl as string, max: 2 });
      const store = openStore("postgres://", { pool });
      try {
        for (let i = 0; i < 12; i++) {
          const controller = new AbortController();
          const follower = store.follow({ signal: controller.signal, onCaughtUp: () => controller.abort() });
          for await (const _ of follower) {
            // The store is empty: the follower catches up at once and stops.
          }
        }
        // The listener gives its client back once nobody listens; reads and writes get it next.
        expect(await store.currentSeqNo()).toBe(0);
        const clients = [await pool.connect(), await pool.connect()];
        try {
          for (const client of clients) {
            expect(client.listenerCount("error")).toBe(0);
            expect(client.listenerCount("notification")).toBe(0);
          }
        } finally {
          for (const client of clients) client.release();
        }
      } finally {
        await store.close();
        await pool.end();
      }
    });
  });
}
