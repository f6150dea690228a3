import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConnectionError, type OpenStoreOptions, openStore, type Store } from "../src/index.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import { writeLockKey } from "../src/sql/dialects/postgres/postgres-dialect.js";
import { META } from "../src/sql/queries/meta.js";
import { derivedName } from "../src/sql/tables.js";
import { act, collect } from "./support/events.js";
import { idBatch } from "./support/id-batch.js";
import { PrivateMariadb } from "./support/private-mariadb.js";
import { PrivatePostgres } from "./support/private-postgres.js";

/** A server of the test's own: the shared ones serve other test files and are never stopped. */
interface PrivateServer {
  readonly url: string;
  /** Cuts every session at once, as a crash would. */
  stop(): void;
  start(): void;
  dispose(): void;
}

const CUT_BATCH = 10_000;

/** A session of the test's own holding the store's write lock until the server stops. */
interface LockHolder {
  /** Whether a writer is waiting for the lock. */
  waited(): Promise<boolean>;
  /** Ends the session (dead by then: the server has stopped). */
  end(): Promise<void>;
}

async function holdPostgresWriteLock(url: string): Promise<LockHolder> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  await client.query(`select pg_catalog.pg_advisory_lock(${writeLockKey(DEFAULT_TABLES.event)})`);
  return {
    waited: async () =>
      (await client.query("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted"))
        .rows[0].n > 0,
    end: () => client.end().catch(() => {}),
  };
}

async function holdMariadbWriteLock(url: string): Promise<LockHolder> {
  const connection = await mysql.createConnection(url);
  connection.on("error", () => {});
  await connection.query("begin");
  await connection.query(
    `select \`value\` from \`${derivedName(DEFAULT_TABLES, "meta")}\` where \`name\` = ? for update`,
    [META.writeLock],
  );
  return {
    waited: async () => {
      // The writer's statement that takes the lock, still running (information_schema.innodb_trx
      // shows a server under --skip-grant-tables only the session's own transaction).
      const [rows] = await connection.query(
        "select count(*) as n from information_schema.processlist where id <> connection_id() and info like ?",
        [`%${META.writeLock}%for update`],
      );
      return Number((rows as { n: number }[])[0]?.n) > 0;
    },
    end: () => connection.end().catch(() => {}),
  };
}

/**
 * Issue 4, server restarts: a store that was open works again once its server
 * is back (the pool drops its dead connections), and a call cut by the
 * restart fails with a typed error, having written nothing.
 */
function serverRestarts(
  name: string,
  create: () => Promise<PrivateServer>,
  options: OpenStoreOptions,
  holdWriteLock: (url: string) => Promise<LockHolder>,
): void {
  describe(`${name} server restarts`, () => {
    let server: PrivateServer | undefined;
    let store: Store;

    beforeAll(async () => {
      server = await create();
      store = openStore(server.url, options);
      await store.initSchema();
    }, 60_000);

    afterAll(async () => {
      await store?.close();
      server?.dispose();
    });

    it("after a restart, the next call of a store that was open succeeds (the pool reconnects)", async () => {
      const first = await store.rebase(1, idBatch("before", 10));
      expect(first.result).toBe("ok");
      // Both kinds of call, each after its own restart: a read, then a write.
      server?.stop();
      server?.start();
      expect(await store.currentSeqNo()).toBe(10);
      server?.stop();
      server?.start();
      const next = await store.rebase(11, idBatch("after", 10));
      expect(next.result === "ok" && next.events.map((e) => e.seqNo)).toEqual(
        Array.from({ length: 10 }, (_, i) => 11 + i),
      );
      expect(await store.currentSeqNo()).toBe(20);
      // A one-action rebase after its own restart (on MariaDB, one call of the stored routine).
      server?.stop();
      server?.start();
      const one = await store.rebase(21, [act(["order", 1], undefined, { reason: "after" })]);
      expect(one).toMatchObject({ result: "ok", events: [{ seqNo: 21 }] });
    });

    it("while the server is down, calls fail with ConnectionError, not a driver error", async () => {
      server?.stop();
      try {
        await expect(store.currentSeqNo()).rejects.toBeInstanceOf(ConnectionError);
        await expect(store.rebase(22, idBatch("down", 1))).rejects.toBeInstanceOf(ConnectionError);
        await expect(store.rebase(22, [act(["order", 1])])).rejects.toBeInstanceOf(ConnectionError);
      } finally {
        server?.start();
      }
      expect(await store.currentSeqNo()).toBe(21);
    });

    it("a rebase in flight when the server goes down fails with a ConnectionError, writes nothing, and its retry writes it once", async () => {
      let cut = 0;
      for (let attempt = 0; attempt < 6 && cut < 2; attempt++) {
        const head = await store.currentSeqNo();
        const id = `cut-${attempt}`;
        // First, a cut that cannot come too late: the rebase waits for the write lock that another
        // session holds.
        const holder = attempt === 0 && server ? await holdWriteLock(server.url) : undefined;
        const pending = store.rebase(head + 1, idBatch(id, CUT_BATCH), { id }).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (holder)
          await vi
            .waitFor(async () => expect(await holder.waited()).toBe(true), { timeout: 20_000 })
            .catch(async (e) => {
              await holder.end();
              throw e;
            });
        // Then cuts 30 ms after the call returned (validated and encoded by then; PostgreSQL then took
        // about 65 ms to insert and commit the 10,000 rows), then later and later, up to its commit.
        else await new Promise((r) => setTimeout(r, 5 + attempt * 25));
        server?.stop();
        await holder?.end();
        const outcome = await pending;
        server?.start();
        const after = await store.currentSeqNo();
        if (outcome !== undefined) {
          expect(outcome).toBeInstanceOf(ConnectionError);
          expect((outcome as ConnectionError).cause).toBeDefined();
          // A cut during the commit itself may have committed the whole batch: the id's retry tells.
          expect([head, head + CUT_BATCH]).toContain(after);
          if (after === head) cut++;
        }
        // The caller's retry: written exactly once, at the seqNos that follow `head`.
        const retried = await store.rebase(head + 1, idBatch(id, CUT_BATCH), { id });
        expect(retried.result === "ok" && [retried.events[0]?.seqNo, retried.events.length]).toEqual([
          head + 1,
          CUT_BATCH,
        ]);
        expect(await store.currentSeqNo()).toBe(head + CUT_BATCH);
      }
      expect(cut, "rebases cut in flight that wrote nothing").toBeGreaterThan(0);
      // Nothing lost, nothing duplicated: each batch once, in order, gapless.
      const actions = await collect(store.stream({ offset: 0 }));
      expect(actions.map((a) => a.seqNo)).toEqual(actions.map((_, i) => i + 1));
      const counts = new Map<string, number>();
      for (const a of actions) counts.set(a.action.reason, (counts.get(a.action.reason) ?? 0) + 1);
      expect(counts.get("before")).toBe(10);
      expect(counts.get("after")).toBe(11);
      expect(counts.has("down")).toBe(false);
      for (const [reason, count] of counts) if (reason.startsWith("cut-")) expect(count).toBe(CUT_BATCH);
    }, 120_000);
  });
}

describe("a private MariaDB server", () => {
  it("leaves the temporary tables of the machine's servers alone when it starts", async () => {
    // A server deletes every #sql* file of its tmpdir at start: in /tmp, those of the shared server.
    const shared = join(tmpdir(), `#sql-coherence-probe-${process.pid}.MAI`);
    writeFileSync(shared, "");
    const server = await PrivateMariadb.create();
    try {
      server.stop();
      server.start();
      expect(existsSync(shared)).toBe(true);
    } finally {
      server.dispose();
      rmSync(shared, { force: true });
    }
  }, 60_000);
});

serverRestarts("PostgreSQL", PrivatePostgres.create, { postgres: { max: 4 } }, holdPostgresWriteLock);
serverRestarts("MariaDB", PrivateMariadb.create, { mysql: { connectionLimit: 4 } }, holdMariadbWriteLock);
