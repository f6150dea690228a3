import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act } from "./support/events.js";

/**
 * A pool of the store's database whose clients record, for each query they
 * are given, how many answers they had received by then: a rebase whose
 * queries all go out before its first answer comes back is one round trip.
 */
function countingPool(url: string): { pool: pg.Pool; calls: () => number[] } {
  const pool = new pg.Pool({ connectionString: url });
  // An idle client terminated by the test database's drop would otherwise end the process.
  pool.on("error", () => {});
  let answered = 0;
  let calls: number[] = [];
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      calls.push(answered);
      const result = query(...args);
      const done = () => {
        answered++;
      };
      if (result instanceof Promise) result.then(done, done);
      return result;
    };
  });
  return {
    pool,
    calls: () => {
      const seen = calls;
      calls = [];
      return seen;
    },
  };
}

/** The socket writes of the clients of `pool` that are not a write of one query alone (`_writev`: corked queries). */
function countingWrites(pool: pg.Pool): () => { write: number; writev: number } {
  let counts = { write: 0, writev: 0 };
  pool.on("connect", (client) => {
    const stream = (client as unknown as { connection: { stream: Record<string, (...args: unknown[]) => unknown> } })
      .connection.stream;
    for (const name of ["_write", "_writev"] as const) {
      const original = stream[name]?.bind(stream);
      if (original === undefined) continue;
      stream[name] = (...args: unknown[]) => {
        counts[name === "_write" ? "write" : "writev"]++;
        return original(...args);
      };
    }
  });
  return () => {
    const seen = counts;
    counts = { write: 0, writev: 0 };
    return seen;
  };
}

/** Runs `fn` with a store on a {@link countingPool} of `url` (its writes counted too), then closes both. */
async function withCountingStore(
  url: string,
  fn: (
    store: Store,
    counts: { calls: () => number[]; writes: () => { write: number; writev: number } },
  ) => Promise<void>,
): Promise<void> {
  const { pool, calls } = countingPool(url);
  const writes = countingWrites(pool);
  const store = openStore("postgres://", { pool });
  try {
    await fn(store, { calls, writes });
  } finally {
    await store.close();
    await pool.end();
  }
}

for (const factory of storesNamed("postgres")) {
  afterAll(() => factory.dispose());

  describe("PostgreSQL: a rebase is one round trip when nothing conflicts", () => {
    // The clock stands still: no connection counts as idle, whose first write would take a round trip
    // of its own (PROBE_AFTER_IDLE_MS), however slowly the machine runs the test.
    beforeEach(() => void vi.spyOn(performance, "now").mockReturnValue(0));
    afterEach(() => void vi.restoreAllMocks());

    it("with the function, a one-action rebase behind the head is one query, or BEGIN, the function, the call and COMMIT in one write on a new client", async () => {
      const other = await factory.create();
      await withCountingStore(factory.lastUrl as string, async (store, { calls, writes }) => {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        await store.currentSeqNo();
        expect((await other.rebase(2, [act(["order", 2]), act(["order", 3])])).result).toBe("ok");
        calls();
        writes();
        const r = await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })]);
        // BEGIN, the call (which takes the write lock) and COMMIT, in one write before any answer.
        const sent = calls();
        expect(sent.length).toBe(3);
        expect(new Set(sent).size).toBe(1);
        expect(writes()).toEqual({ write: 0, writev: 1 });
        expect(r).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 4 });
        calls();
        // A conflict: the call refuses and answers the head it read under the lock and theirs, the
        // first action on the aggregate since the base: one round trip, no ROLLBACK.
        const c = await store.rebase(3, [act(["order", 3], { assoc: { n: 9 } })]);
        expect(c).toMatchObject({
          result: "conflict",
          events: [],
          conflict: { ours: { seqNo: 5 }, theirs: { seqNo: 3 } },
        });
        // The call alone now: the client has made the function, and its sessions default to READ COMMITTED.
        expect(calls().length).toBe(1);
        // A one-action rebase that passes: that one query, in autocommit.
        expect((await other.rebase(5, [act(["order", 4])])).result).toBe("ok");
        calls();
        expect(await store.rebase(5, [act(["order", 1], { assoc: { n: 3 } })])).toMatchObject({
          result: "ok",
          events: [{ seqNo: 6 }],
        });
        expect(calls().length).toBe(1);
        // A base past the head + 1: the refusal's head tells it, in its one round trip.
        expect(await store.rebase(9, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 7 });
        expect(calls().length).toBe(1);
        // On the head it saw: one round trip. Another writer committed since: that append is
        // refused (its round trip, then a ROLLBACK), then the call.
        expect((await store.rebase(7, [act(["order", 5])])).result).toBe("ok");
        calls();
        expect(await store.rebase(8, [act(["order", 6])])).toMatchObject({ result: "ok", events: [{ seqNo: 8 }] });
        expect(new Set(calls()).size).toBe(1);
        expect((await other.rebase(9, [act(["order", 7])])).result).toBe("ok");
        calls();
        expect(await store.rebase(9, [act(["order", 8])])).toMatchObject({ result: "ok", events: [{ seqNo: 10 }] });
        expect(new Set(calls()).size).toBe(3);
        const streamed: number[] = [];
        for await (const a of store.stream()) streamed.push(a.seqNo);
        expect(streamed).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      });
    });

    it("a history the function does not take (triggers, a batch) behind the head: the lock, the head, the checks, the rows and COMMIT before any answer", async () => {
      const other = await factory.create();
      await withCountingStore(factory.lastUrl as string, async (store, { calls, writes }) => {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        // Warm the pool: its first client, and the store's first head.
        await store.currentSeqNo();
        // Two commits the writer has not seen, one on its aggregate before its base.
        expect((await other.rebase(2, [act(["order", 2]), act(["order", 3])])).result).toBe("ok");
        calls();
        writes();
        const r = await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } }, { triggers: [["key", "k0"]] })]);
        const sent = calls();
        // The lock, the head and the notification (one simple query), the checks, the rows, COMMIT.
        expect(sent.length).toBe(4);
        // Every query went out before the first answer came back, in one write: a server woken
        // by a part of the transaction would hold the write lock while it waits for the rest.
        expect(new Set(sent).size).toBe(1);
        expect(writes()).toEqual({ write: 0, writev: 1 });
        expect(r).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
        // The state of an aggregate of less than a page of actions: one query, no head read before it.
        expect(await store.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 4 });
        expect(calls().length).toBe(1);
        // So is a stream of less than a page of actions.
        const streamed: number[] = [];
        for await (const a of store.stream()) streamed.push(a.seqNo);
        expect(streamed).toEqual([1, 2, 3, 4]);
        expect(calls().length).toBe(1);

        // A conflict still gets the full rules: the rows stay out, theirs is reported.
        const c = await store.rebase(3, [act(["order", 3], { assoc: { n: 9 } })]);
        expect(c).toMatchObject({ result: "conflict", conflict: { theirs: { seqNo: 3 } } });
        // A base past the head + 1 as well.
        expect(await store.rebase(9, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 5 });
        // A history of several events with triggers and an effect, numbered after the head.
        const h = await store.rebase(2, [
          act(["order", 7], { assoc: { n: 1 } }, { triggers: [["key", "k1"]] }),
          { timestamp: new Date(5), source: "test", effect: { reason: "expired", trigger: ["key", "k1"] } },
          act(["order", 8]),
        ]);
        expect(h).toMatchObject({ result: "ok", events: [{ seqNo: 5 }, { seqNo: 6 }, { seqNo: 7 }] });
        const stored = [];
        calls();
        for await (const a of store.stream({ offset: 5 })) stored.push([a.seqNo, a.action.aggregate, a.triggers]);
        expect(stored).toEqual([
          [5, ["order", 7], [["key", "k1"]]],
          [7, ["order", 8], undefined],
        ]);
        // The head and whether an effect came since the offset (one query), the replayed actions, the rest.
        expect(calls().length).toBe(3);
        expect(await store.currentSeqNo()).toBe(7);

        // A writer going on from its own last write appends on the head it saw (one round trip);
        // when another writer committed since, that append is refused (its round trip, then a
        // ROLLBACK) and the one-round-trip rebase follows.
        expect((await store.rebase(8, [act(["order", 9])])).result).toBe("ok");
        calls();
        writes();
        expect(await store.rebase(9, [act(["order", 9])])).toMatchObject({ result: "ok", events: [{ seqNo: 9 }] });
        expect(new Set(calls()).size).toBe(1);
        expect(writes()).toEqual({ write: 0, writev: 1 });
        expect((await other.rebase(10, [act(["order", 10])])).result).toBe("ok");
        calls();
        expect(await store.rebase(10, [act(["order", 11])])).toMatchObject({ result: "ok", events: [{ seqNo: 11 }] });
        expect(new Set(calls()).size).toBe(3);
      });
    });
  });

  describe("PostgreSQL: a follower woken by a commit", () => {
    it("reads the head and whether an effect came in one query, then the new actions", async () => {
      const other = await factory.create();
      const { pool } = countingPool(factory.lastUrl as string);
      let texts: string[] = [];
      pool.on("connect", (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
          const q = args[0] as string | { text?: string };
          texts.push(typeof q === "string" ? q : (q.text ?? ""));
          return query(...args);
        };
      });
      const store = openStore("postgres://", { pool });
      const controller = new AbortController();
      const caughtUp: number[] = [];
      let next: (() => void) | undefined;
      const seen: number[] = [];
      try {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        const following = (async () => {
          for await (const a of store.follow({
            signal: controller.signal,
            onCaughtUp: (head) => {
              caughtUp.push(head);
              next?.();
            },
          })) {
            seen.push(a.seqNo);
          }
        })();
        const reached = (head: number) =>
          new Promise<void>((resolve) => {
            next = () => caughtUp.includes(head) && resolve();
            next();
          });
        await reached(1);
        texts = [];
        expect((await other.rebase(2, [act(["order", 2])])).result).toBe("ok");
        await reached(2);
        expect(seen).toEqual([1, 2]);
        // Each read of the head also answers whether an effect came (polls too, however many ran):
        // no query of the effects stands alone.
        const reads = texts.filter((t) => t.includes('"effects"'));
        expect(reads.length).toBeGreaterThanOrEqual(2);
        for (const t of reads) expect(t).toMatch(/max\("seq_no"\)/);
        controller.abort();
        await following;
      } finally {
        controller.abort();
        await store.close();
        await pool.end();
      }
    });
  });
}
