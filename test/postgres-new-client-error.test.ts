import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act } from "./support/events.js";

/**
 * A server that ends a connection as it opens (a restart, pg_terminate_backend)
 * may send its FATAL in the packet that made the connection ready: node-postgres
 * then emits the client's error while the pool hands the client out, before the
 * store's call holds it. Here the error is emitted right there, every time.
 */
for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL: a new client of the store's own pool that fails as it is handed out", () => {
    afterAll(() => factory.dispose());

    it("does not end the process: the error is heard, the calls go on", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const connect = pg.Client.prototype.connect as (this: pg.Client, callback?: (error?: Error) => void) => unknown;
      let emitted = 0;
      // biome-ignore lint/suspicious/noExplicitAny: wraps pg's overloads
      (pg.Client.prototype as any).connect = function (this: pg.Client, callback?: (error?: Error) => void) {
        if (typeof callback !== "function") return connect.call(this);
        return connect.call(this, (error?: Error) => {
          callback(error);
          if (error) return;
          emitted++;
          const fatal = Object.assign(new Error("terminating connection due to administrator command"), {
            code: "57P01",
          });
          this.emit("error", fatal);
        });
      };
      const store = openStore(url);
      try {
        expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect(await store.currentSeqNo()).toBe(1);
        expect(emitted).toBeGreaterThan(0);
      } finally {
        (pg.Client.prototype as { connect: unknown }).connect = connect;
        await store.close();
      }
    });
  });
}
