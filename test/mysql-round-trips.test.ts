import mysql from "mysql2";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import { MysqlDialect } from "../src/sql/dialects/mysql/mysql-dialect.js";
import { storesNamed } from "./stores.js";
import { act, eff } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/**
 * A pool of the store's database whose connections count the queries they send, the prepared
 * ones apart, the queries that take the write lock (`select … for update`), and the calls of
 * the stored routine that appends one action (which takes the lock inside).
 */
function countingPool(url: string): {
  pool: mysql.Pool;
  sent: () => number;
  prepared: () => number;
  locks: () => number;
  calls: () => number;
} {
  const pool = mysql.createPool({ uri: url, multipleStatements: true });
  let sent = 0;
  let prepared = 0;
  let locks = 0;
  let calls = 0;
  pool.on("connection", (connection) => {
    const query = connection.query.bind(connection);
    (connection as unknown as { query: unknown }).query = (...args: unknown[]) => {
      sent++;
      const text = typeof args[0] === "string" ? args[0] : (args[0] as { sql?: string }).sql;
      if (text?.includes(" for update")) locks++;
      if (text?.startsWith("call ")) calls++;
      return (query as (...a: unknown[]) => unknown)(...args);
    };
    const execute = connection.execute.bind(connection);
    (connection as unknown as { execute: unknown }).execute = (...args: unknown[]) => {
      prepared++;
      return (execute as (...a: unknown[]) => unknown)(...args);
    };
  });
  return { pool, sent: () => sent, prepared: () => prepared, locks: () => locks, calls: () => calls };
}

type Counts = Omit<ReturnType<typeof countingPool>, "pool">;

/** Runs `fn` with a store on a {@link countingPool} of `url`, then closes both. */
async function withCountingStore(url: string, fn: (store: Store, counts: Counts) => Promise<void>): Promise<void> {
  const { pool, ...counts } = countingPool(url);
  const store = openStore("mysql://", { pool });
  try {
    await fn(store, counts);
  } finally {
    await store.close();
    await new Promise<void>((resolve) => pool.end(() => resolve()));
  }
}

/** The routine `initSchema` makes for a one-action rebase (`StoredAppend`). */
const ROUTINE = new MysqlDialect().storedAppend.name(DEFAULT_TABLES);

/** Drops the store's routine: its rebases then take the statements, as where the user may not create routines. */
async function dropRoutine(url: string): Promise<void> {
  await onDatabase(url, [`drop procedure if exists \`${ROUTINE}\``]);
}

for (const factory of storesNamed("mysql")) {
  describe("MySQL/MariaDB: a rebase is one round trip when nothing conflicts", () => {
    afterAll(() => factory.dispose());
    // The clock stands still: no connection counts as idle, whose first write would take a round trip
    // of its own (PROBE_AFTER_IDLE_MS), however slowly the machine runs the test.
    beforeEach(() => void vi.spyOn(performance, "now").mockReturnValue(0));
    afterEach(() => void vi.restoreAllMocks());

    it("with the routine, a one-action rebase behind the head is one call, refused without a ROLLBACK", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      await withCountingStore(url, async (store, { sent, locks, calls }) => {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        await store.currentSeqNo();
        expect((await other.rebase(2, [act(["order", 2]), act(["order", 3])])).result).toBe("ok");
        let at = sent();
        const r = await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })]);
        expect([sent() - at, calls()]).toEqual([1, 1]);
        expect(r).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 4 });

        // A conflict: the routine refuses (and rolls back inside) and answers the head it read under
        // the lock and theirs, the first action on the aggregate since the base: one query.
        at = sent();
        const c = await store.rebase(3, [act(["order", 3], { assoc: { n: 9 } })]);
        expect(c).toMatchObject({
          result: "conflict",
          events: [],
          conflict: { ours: { seqNo: 5 }, theirs: { seqNo: 3 } },
        });
        expect([calls(), locks(), sent() - at]).toEqual([2, 0, 1]);
        // A base past the head + 1: refused too, and the head it answers says why: one query.
        at = sent();
        expect(await store.rebase(9, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 5 });
        expect(sent() - at).toBe(1);
        expect(await store.currentSeqNo()).toBe(4);

        // On the head it saw: the append there, one query.
        expect((await store.rebase(5, [act(["order", 5])])).result).toBe("ok");
        at = sent();
        expect(await store.rebase(6, [act(["order", 6])])).toMatchObject({ result: "ok", events: [{ seqNo: 6 }] });
        expect(sent() - at).toBe(1);
        // Another writer committed since: that append is refused (its query, then a ROLLBACK), then one call;
        expect((await other.rebase(7, [act(["order", 7])])).result).toBe("ok");
        at = sent();
        expect(await store.rebase(7, [act(["order", 8])])).toMatchObject({ result: "ok", events: [{ seqNo: 8 }] });
        expect(sent() - at).toBe(3);
        // and for a while one-action rebases skip that append, even on the head they saw: one call each.
        at = sent();
        let before = calls();
        expect(await store.rebase(9, [act(["order", 9])])).toMatchObject({ result: "ok", events: [{ seqNo: 9 }] });
        expect([sent() - at, calls() - before]).toEqual([1, 1]);
        // Two actions, or an action with triggers: the statements, which take the lock themselves.
        const locked = locks();
        before = calls();
        expect((await store.rebase(10, [act(["order", 10]), act(["order", 11])])).result).toBe("ok");
        expect((await store.rebase(12, [act(["order", 9], undefined, { triggers: [["key", 1]] })])).result).toBe("ok");
        expect([locks() - locked, calls() - before]).toEqual([2, 0]);
        const streamed: number[] = [];
        for await (const a of store.stream()) streamed.push(a.seqNo);
        expect(streamed).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      });
    });

    it("without the routine: the rebases take the statements, after one call that finds it missing", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      await dropRoutine(url);
      await withCountingStore(url, async (store, { sent, calls }) => {
        expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect((await store.rebase(2, [act(["order", 2])])).result).toBe("ok");
        expect((await other.rebase(3, [act(["order", 3])])).result).toBe("ok");
        // On the head it saw, refused as another writer committed since, then in one query.
        const at = sent();
        expect(await store.rebase(3, [act(["order", 4])])).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        expect(sent() - at).toBe(3);
        expect(calls()).toBe(1);
        // Another process makes it: the store asks again a minute after it found it missing.
        await other.initSchema();
        expect((await store.rebase(1, [act(["order", 5])])).result).toBe("ok");
        expect(calls()).toBe(1);
        vi.spyOn(performance, "now").mockReturnValue(60_000);
        expect(await store.rebase(1, [act(["order", 6])])).toMatchObject({ result: "ok", events: [{ seqNo: 6 }] });
        expect(calls()).toBe(2);
        // Its own initSchema makes it, and the store calls it from then on.
        await dropRoutine(url);
        expect((await store.rebase(1, [act(["order", 7])])).result).toBe("ok");
        await store.initSchema();
        expect((await store.rebase(1, [act(["order", 8])])).result).toBe("ok");
        expect(calls()).toBe(4);
        expect(await store.currentSeqNo()).toBe(8);
      });
    });

    it("without the routine, a writer behind the head: one query for the lock, the head, the checks, the rows and COMMIT", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      await dropRoutine(url);
      await withCountingStore(url, async (store, { sent, prepared, locks }) => {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        // Warm the pool: its first connection, and the store's first head.
        await store.currentSeqNo();
        // Two commits the writer has not seen, one on its aggregate before its base.
        expect((await other.rebase(2, [act(["order", 2]), act(["order", 3])])).result).toBe("ok");
        // The call that finds the routine missing, then the one query.
        const before = sent();
        const r = await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })]);
        expect(sent() - before).toBe(2);
        expect(r).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 4 });
        // A stream of less than a page of actions: one query, no head read before it.
        const queries = sent() + prepared();
        const streamed: number[] = [];
        for await (const a of store.stream()) streamed.push(a.seqNo);
        expect(streamed).toEqual([1, 2, 3, 4]);
        expect(sent() + prepared() - queries).toBe(1);

        // A conflict: the rows stay out, theirs is reported. Once the guard refused the rebase,
        // the conflict is read without taking the write lock again.
        const locked = locks();
        const c = await store.rebase(3, [act(["order", 3], { assoc: { n: 9 } })]);
        expect(c).toMatchObject({
          result: "conflict",
          events: [],
          conflict: { ours: { seqNo: 5 }, theirs: { seqNo: 3 } },
        });
        expect(locks() - locked).toBe(1);
        // A base past the head + 1 as well.
        expect(await store.rebase(9, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 5 });
        expect(await store.currentSeqNo()).toBe(4);

        // A writer going on from its own last write appends on the head it saw (one query); when
        // another writer committed since, that append is refused (its query, then a ROLLBACK) and
        // the one-query rebase follows.
        expect((await store.rebase(5, [act(["order", 5])])).result).toBe("ok");
        let at = sent();
        expect(await store.rebase(6, [act(["order", 6])])).toMatchObject({ result: "ok", events: [{ seqNo: 6 }] });
        expect(sent() - at).toBe(1);
        expect((await other.rebase(7, [act(["order", 7])])).result).toBe("ok");
        at = sent();
        expect(await store.rebase(7, [act(["order", 8])])).toMatchObject({ result: "ok", events: [{ seqNo: 8 }] });
        expect(sent() - at).toBe(3);
      });
    });

    it("an effect since the base makes the guard refuse (it checks for any effect); the exact rules then decide", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      await dropRoutine(url);
      await withCountingStore(url, async (store, { locks }) => {
        expect((await other.rebase(1, [act(["order", 1], undefined, { triggers: [["key", 1]] })])).result).toBe("ok");
        expect((await other.rebase(2, [act(["order", 2], undefined, { triggers: [["key", 2]] })])).result).toBe("ok");
        await store.currentSeqNo();
        // An effect on a trigger that order 1 does not carry: no conflict, but the guard cannot tell.
        expect((await other.rebase(3, [eff(["key", 2])])).result).toBe("ok");
        let locked = locks();
        const r = await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })]);
        expect(r).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        // The guard's write lock, then the exact rules' own.
        expect(locks() - locked).toBe(2);
        expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 4 });
        // An effect on order 1's own trigger is a conflict, found without taking the lock again.
        expect((await other.rebase(5, [eff(["key", 1])])).result).toBe("ok");
        locked = locks();
        const c = await store.rebase(5, [act(["order", 1], { assoc: { n: 3 } })]);
        expect(c).toMatchObject({ result: "conflict", conflict: { ours: { seqNo: 6 }, theirs: { seqNo: 5 } } });
        expect(locks() - locked).toBe(1);
        // With that effect resolved, the guard refuses again and the rebase commits.
        const resolved = await store.rebase(5, [act(["order", 1], { assoc: { n: 3 } })], { resolved: [5] });
        expect(resolved).toMatchObject({ result: "ok", events: [{ seqNo: 6 }] });
        expect(await store.currentSeqNo()).toBe(6);
      });
    });

    it("a large rebase inserts its full chunks of 1,000 rows as prepared statements, its remainder as text", async () => {
      const other = await factory.create();
      await withCountingStore(factory.lastUrl as string, async (store, { prepared }) => {
        const big = (from: number, n: number) =>
          Array.from({ length: n }, (_, i) => act(["order", (from + i) % 7], { assoc: { n: from + i, s: `é ${i}` } }));
        expect((await store.rebase(1, [act(["order", 0])])).result).toBe("ok");
        // On the head it saw: 2,500 actions, two full chunks prepared (the event relation gets
        // two rows, the first and the last).
        let at = prepared();
        expect(await store.rebase(2, big(2, 2500))).toMatchObject({ result: "ok", events: { length: 2500 } });
        expect(prepared() - at).toBe(2);
        // Someone committed since: the append on the head it saw is refused at its event rows,
        // before any chunk, and the rebase goes on behind the head, numbered after it.
        expect((await other.rebase(2502, [act(["order", 100])])).result).toBe("ok");
        at = prepared();
        const r = await store.rebase(2502, big(2502, 1200));
        expect(r).toMatchObject({ result: "ok", events: { length: 1200 } });
        expect(r.result === "ok" && r.events[0]?.seqNo).toBe(2503);
        expect(prepared() - at).toBe(1);
        const read: [number, unknown][] = [];
        for await (const a of store.stream()) read.push([a.seqNo, a.action.patch]);
        expect(read.map(([seqNo]) => seqNo)).toEqual(Array.from({ length: 3702 }, (_, i) => i + 1));
        expect(read[1]).toEqual([2, { assoc: { n: 2, s: "é 0" } }]);
        expect(read[3701]).toEqual([3702, { assoc: { n: 3701, s: "é 1199" } }]);
      });
    });
  });
}
