import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { EventStore } from "../src/event-store.js";
import { openKeystore, openStore } from "../src/index.js";
import type { SqlBackend } from "../src/sql/sql-backend.js";
import { storesNamed } from "./stores.js";
import { admin, freshName, SERVER_URLS, withDatabase } from "./support/servers.js";

/**
 * PostgreSQL rewrites the key relation (VACUUM FULL) after an expiry, and
 * VACUUM FULL copies the row versions some transaction may still see: while
 * a transaction older than the expiry is open, the old wrapped key would stay
 * in the relation's files, so the expiry reports `scrubbed: false`.
 */
for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL keystore: scrubbed says whether the key left the relation's files", () => {
    afterAll(() => factory.dispose());

    it("false while an older snapshot is open, true once it has ended; the expiry committed either way", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: randomBytes(32) });
      const sealed = await keystore.encrypt(["subject", 1], "card 4111-1111-1111-1111");
      await keystore.encrypt(["subject", 2], "card 5500-0000-0000-0004");

      const reader = new pg.Client({ connectionString: factory.lastUrl as string });
      await reader.connect();
      try {
        await reader.query("begin isolation level repeatable read");
        await reader.query("select count(*) from events");
        const held = await keystore.expire(["subject", 1]);
        expect(held).toMatchObject({ result: "expired", scrubbed: false });
        expect(await keystore.decrypt(["subject", 1], sealed)).toEqual({ "coherence:redacted": true });
        await reader.query("commit");
        // The next expireDue finishes the rewrite, with no key due; then there is nothing left to do.
        const file = async () =>
          (await reader.query<{ f: string }>("select pg_relation_filenode('events_keys')::text as f")).rows[0]?.f;
        const before = await file();
        expect(await keystore.expireDue()).toEqual({ effects: [], scrubbed: true });
        const after = await file();
        expect(after).not.toBe(before);
        expect(await keystore.expireDue()).toEqual({ effects: [], scrubbed: true });
        expect(await file()).toBe(after);
      } finally {
        await reader.end();
      }
      expect(await keystore.expire(["subject", 2])).toMatchObject({ result: "expired", scrubbed: true });
    });

    it("false, not an error, while a reader holds the relation's lock under a short lock_timeout of the role: the expiry has committed", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const reader = new pg.Client({ connectionString: url });
      await reader.connect();
      const { rows } = await reader.query("select current_database() as db");
      const role = `alter role current_user in database "${(rows[0] as { db: string }).db}"`;
      // The connections of a store opened after this give up on a lock after 300 ms.
      await reader.query(`${role} set lock_timeout = '300ms'`);
      const store = openStore(url);
      const keystore = openKeystore(store, { masterKey: randomBytes(32) });
      const sealed = await keystore.encrypt(["subject", 1], "x");
      try {
        // READ COMMITTED between statements: no snapshot, but the relation's lock until COMMIT.
        await reader.query("begin");
        await reader.query("select count(*) from events_keys");
        expect(await keystore.expire(["subject", 1])).toMatchObject({ result: "expired", scrubbed: false });
        expect(await keystore.decrypt(["subject", 1], sealed)).toEqual({ "coherence:redacted": true });
        expect(await keystore.expire(["subject", 1])).toEqual({ result: "absent" });
      } finally {
        await reader.query("rollback");
        await reader.query(`${role} reset lock_timeout`);
        await reader.end();
        await store.close();
      }
    });

    it("false within seconds, with the server's default lock_timeout, while a reader holds the key relation's lock; other keystore calls go on", async () => {
      await factory.create();
      // One connection: the one that rewrote the relation is the one whose settings are read after.
      const pool = new pg.Pool({ connectionString: factory.lastUrl as string, max: 1 });
      pool.on("error", () => {});
      const store = openStore("postgres://", { pool });
      const keystore = openKeystore(store, { masterKey: randomBytes(32) });
      const sealed = await keystore.encrypt(["subject", 1], "x");
      const other = await keystore.encrypt(["subject", 2], "y");
      const reader = new pg.Client({ connectionString: factory.lastUrl as string });
      await reader.connect();
      try {
        expect((await pool.query("show lock_timeout")).rows[0]).toEqual({ lock_timeout: "0" });
        // READ COMMITTED between statements: no snapshot, but the relation's lock until COMMIT.
        await reader.query("begin");
        await reader.query("select count(*) from events_keys");
        // Another store, connected before the expiry starts: its keystore calls are not queued behind the
        // waiting rewrite, they end while the expiry still waits.
        const second = openStore(factory.lastUrl as string);
        await second.currentSeqNo();
        const started = performance.now();
        let expired = false;
        const expiring = keystore.expire(["subject", 1]).finally(() => {
          expired = true;
        });
        await new Promise((r) => setTimeout(r, 500));
        expect(await openKeystore(second, { masterKey: randomBytes(32) }).keys()).toHaveLength(2);
        expect(expired).toBe(false);
        await second.close();
        expect(await expiring).toMatchObject({ result: "expired", scrubbed: false });
        expect(performance.now() - started).toBeLessThan(10_000);
        expect(await keystore.decrypt(["subject", 1], sealed)).toEqual({ "coherence:redacted": true });
        expect(await keystore.decrypt(["subject", 2], other)).toBe("y");
        // Once the reader is gone the rewrite runs; the connection is back to its own lock_timeout after
        // either, still the server's (it follows the configuration).
        await reader.query("rollback");
        expect(await keystore.expire(["subject", 2])).toMatchObject({ result: "expired", scrubbed: true });
        const { rows } = await pool.query("select setting, source from pg_settings where name = 'lock_timeout'");
        expect(rows[0]).toEqual({ setting: "0", source: "default" });
      } finally {
        await reader.query("rollback");
        await reader.end();
        await store.close();
        await pool.end();
      }
    });

    it("false within seconds when a lock request queued behind a reader (another VACUUM FULL, an ALTER) blocks the check itself", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      const keystore = openKeystore(store, { masterKey: randomBytes(32) });
      await keystore.encrypt(["subject", 1], "x");
      const reader = new pg.Client({ connectionString: url });
      const queued = new pg.Client({ connectionString: url });
      await reader.connect();
      await queued.connect();
      const queuedPid = (await queued.query("select pg_backend_pid() as pid")).rows[0].pid as number;
      let waiting: Promise<unknown> | undefined;
      // After the expiry's commit, before its scrub: an exclusive lock request waits behind the reader.
      const driver = ((store as EventStore).backend as SqlBackend).driver as { scrub(table: string): Promise<boolean> };
      const scrub = driver.scrub;
      const spy = vi.spyOn(driver, "scrub").mockImplementation(async (table) => {
        waiting = queued.query("begin").then(() => queued.query("lock table events_keys in access exclusive mode"));
        await vi.waitFor(
          async () => {
            const { rows } = await reader.query(
              "select count(*)::int as n from pg_locks where not granted and pid = $1",
              [queuedPid],
            );
            expect(rows[0].n).toBeGreaterThan(0);
          },
          { timeout: 20_000, interval: 20 },
        );
        return scrub.call(driver, table);
      });
      try {
        await reader.query("begin");
        await reader.query("select count(*) from events_keys");
        const started = performance.now();
        expect(await keystore.expire(["subject", 1])).toMatchObject({ result: "expired", scrubbed: false });
        expect(performance.now() - started).toBeLessThan(10_000);
      } finally {
        spy.mockRestore();
        await reader.query("rollback");
        await waiting;
        await queued.query("rollback");
        await reader.end();
        await queued.end();
      }
    });

    it("a lock on a relation of the same OID in another database (one made from this one as a template) does not hold the scrub", async () => {
      const a = freshName("coherence_test_tpl");
      const b = `${a}_copy`;
      const urlA = withDatabase(SERVER_URLS.postgres, a);
      await admin("postgres", [`create database ${a}`]);
      try {
        const first = openStore(urlA);
        await first.initSchema();
        await first.close();
        await admin("postgres", [`create database ${b} template ${a}`]);
        const reader = new pg.Client({ connectionString: withDatabase(SERVER_URLS.postgres, b) });
        await reader.connect();
        const store = openStore(urlA);
        try {
          const keystore = openKeystore(store, { masterKey: randomBytes(32) });
          await keystore.encrypt(["subject", 1], "x");
          await reader.query("begin");
          await reader.query("select count(*) from events_keys");
          // Were the other database's lock counted, the scrub would wait for it and report false.
          expect(await keystore.expire(["subject", 1])).toMatchObject({ result: "expired", scrubbed: true });
        } finally {
          await reader.query("rollback");
          await reader.end();
          await store.close();
        }
      } finally {
        await admin("postgres", [`drop database if exists ${b}`, `drop database if exists ${a}`]);
      }
    });

    it("rotateMasterKey reports scrubbed: false while an older snapshot could still see the old wrappings, true after", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: randomBytes(32) });
      await keystore.encrypt(["subject", 1], "x");
      const reader = new pg.Client({ connectionString: factory.lastUrl as string });
      await reader.connect();
      try {
        await reader.query("begin isolation level repeatable read");
        await reader.query("select count(*) from events");
        expect(await keystore.rotateMasterKey(randomBytes(32))).toEqual({ rewrapped: 1, scrubbed: false });
        await reader.query("commit");
      } finally {
        await reader.end();
      }
      expect(await keystore.rotateMasterKey(randomBytes(32))).toEqual({ rewrapped: 1, scrubbed: true });
    });

    it("true when no other transaction is open, and the key relation is then a new file", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: randomBytes(32) });
      await keystore.encrypt(["subject", 1], "x");
      const client = new pg.Client({ connectionString: factory.lastUrl });
      client.on("error", () => {});
      await client.connect();
      try {
        const file = async () =>
          (await client.query<{ f: string }>("select pg_relation_filenode('events_keys')::text as f")).rows[0]?.f;
        const before = await file();
        expect(before).toMatch(/^\d+$/);
        expect(await keystore.expire(["subject", 1])).toMatchObject({ result: "expired", scrubbed: true });
        // Rewritten (VACUUM FULL): the old file, and the wrapped key in it, are gone.
        expect(await file()).not.toBe(before);
      } finally {
        await client.end();
      }
    });
  });
}
