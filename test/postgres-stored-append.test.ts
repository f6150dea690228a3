import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import { PostgresDialect } from "../src/sql/dialects/postgres/postgres-dialect.js";
import { storesNamed } from "./stores.js";
import { act } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";

/** The function `initSchema` makes for a one-action rebase (`StoredAppend`). */
const FUNCTION = new PostgresDialect().storedAppend.name(DEFAULT_TABLES);

/** The functions of the schema the URL's sessions write to, with their oids. */
async function functions(url: string): Promise<{ name: string; oid: number }[]> {
  const rows = await onDatabase(url, [
    "select proname::text as name, oid::int as oid from pg_proc where pronamespace = current_schema()::regnamespace order by 1",
  ]);
  return rows.map((r) => ({ name: String(r.name), oid: Number(r.oid) }));
}

/**
 * A role that may use the schema of `url` and read and write its relations, and
 * nothing else, for the length of `fn`; `fn` gets the URL that connects as it.
 */
async function asRole(url: string, fn: (url: string) => Promise<void>): Promise<void> {
  const role = `coh_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const [{ schema }] = (await onDatabase(url, ["select current_schema() as schema"])) as [{ schema: string }];
  await onDatabase(url, [
    `create role ${role} login password '${password}'`,
    `grant usage on schema ${schema} to ${role}`,
    `grant select, insert, update, delete on all tables in schema ${schema} to ${role}`,
  ]);
  try {
    const theirs = new URL(url);
    theirs.username = role;
    theirs.password = password;
    await fn(theirs.toString());
  } finally {
    await onDatabase(url, [`drop owned by ${role}`, `drop role ${role}`]);
  }
}

for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL: the function of a one-action rebase", () => {
    afterAll(() => factory.dispose());

    it("initSchema makes it, and a second initSchema leaves it as it is", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      const made = await functions(url);
      expect(made.map((f) => f.name)).toEqual([FUNCTION]);
      await store.initSchema();
      expect(await functions(url)).toEqual(made);
      expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
    });

    it("stores whose relation names differ in case only each have a function of their own", async () => {
      const lower = await factory.create();
      const url = factory.lastUrl as string;
      const tables = { event: "Events", action: "Actions", effect: "Effects", trigger: "Triggers" };
      const upper = openStore(url, { tables });
      try {
        await upper.initSchema();
        const names = (await functions(url)).map((f) => f.name);
        expect(names).toEqual([FUNCTION, new PostgresDialect().storedAppend.name(tables)].sort());
        expect((await lower.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect(await upper.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 1 }] });
        expect(await upper.rebase(1, [act(["order", 3])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
        expect([await lower.currentSeqNo(), await upper.currentSeqNo()]).toEqual([1, 2]);
        expect(await lower.aggregate(["order", 2])).toBeUndefined();
      } finally {
        await upper.close();
      }
    });

    it("a role that may not run it (no EXECUTE): rebases take the statements", async () => {
      const owner = await factory.create();
      const url = factory.lastUrl as string;
      expect((await owner.rebase(1, [act(["order", 1])])).result).toBe("ok");
      await onDatabase(url, [`revoke execute on function "${FUNCTION}" from public`]);
      await asRole(url, async (theirs) => {
        const store = openStore(theirs);
        try {
          expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
          expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).result).toBe("conflict");
          expect(await store.rebase(3, [act(["order", 1], { assoc: { n: 2 } })])).toMatchObject({
            result: "ok",
            events: [{ seqNo: 3 }],
          });
        } finally {
          await store.close();
        }
      });
      expect(await owner.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 3 });
    });

    it("runs READ COMMITTED whatever the sessions' default isolation: contending writers get gapless seqNos", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      // The calls of the function that failed (a stale head would collide with a stored seqNo).
      const failed: string[] = [];
      const pools = [0, 1].map(() => {
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        pool.on("error", () => {});
        pool.on("connect", (client) => {
          // Queued before the store's first query on the client.
          client.query("set default_transaction_isolation = serializable").catch(() => {});
          const query = client.query.bind(client) as (...args: unknown[]) => unknown;
          (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
            const result = query(...args);
            const q = args[0] as string | { text?: string };
            if ((typeof q === "string" ? q : (q.text ?? "")).includes(FUNCTION) && result instanceof Promise) {
              result.catch((error: { code?: string }) => failed.push(String(error.code)));
            }
            return result;
          };
        });
        return pool;
      });
      const [first, second] = pools.map((pool) => openStore("postgres://", { pool })) as [Store, Store];
      try {
        const committed: number[] = [];
        let conflicts = 0;
        // Each writer rebases on the head it last saw, on two shared aggregates: most rebases are behind.
        const writer = async (store: Store, w: number) => {
          let base = 1;
          for (let i = 0; i < 40; i++) {
            const r = await store.rebase(base, [act(["order", (w + i) % 2], { assoc: { n: i } })]);
            if (r.result === "ok") {
              committed.push(...r.events.map((e) => e.seqNo));
              base = (r.events.at(-1)?.seqNo ?? 0) + 1;
            } else {
              expect(r.result).toBe("conflict");
              conflicts++;
              base = (await store.currentSeqNo()) + 1;
            }
          }
        };
        await Promise.all([writer(first, 0), writer(first, 1), writer(second, 2), writer(second, 3)]);
        expect(committed.length + conflicts).toBe(160);
        expect(committed.sort((a, b) => a - b)).toEqual(Array.from({ length: committed.length }, (_, i) => i + 1));
        expect(await first.currentSeqNo()).toBe(committed.length);
        // No call read a stale head (a snapshot taken before its lock was granted) and failed.
        expect(failed).toEqual([]);
      } finally {
        await first.close();
        await second.close();
        for (const pool of pools) await pool.end();
      }
    });
  });
}
