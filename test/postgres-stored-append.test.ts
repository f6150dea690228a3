import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { DEFAULT_TABLES } from "../src/model/types.js";
import type { SqlSession } from "../src/sql/dialect.js";
import { PostgresDialect } from "../src/sql/dialects/postgres/postgres-dialect.js";
import { PostgresDriver } from "../src/sql/dialects/postgres/postgres-driver.js";
import { storesNamed } from "./stores.js";
import { act, collect } from "./support/events.js";
import { onDatabase } from "./support/raw-sql.js";
import { admin, freshName, SERVER_URLS, withDatabase } from "./support/servers.js";

/** The function `initSchema` makes for a one-action rebase (`StoredAppend`). */
const FUNCTION = new PostgresDialect().storedAppend.name(DEFAULT_TABLES);

/** The functions named `name` in any schema, temporary ones included: `[schema kind, count]`. */
async function functionsNamed(url: string, name: string): Promise<Record<string, number>> {
  const rows = await onDatabase(url, [
    `select case when n.nspname like 'pg\\_temp\\_%' then 'temporary' else n.nspname::text end as kind, count(*)::int as n
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = '${name}' group by 1`,
  ]);
  return Object.fromEntries(rows.map((r) => [String(r.kind), Number(r.n)]));
}

/**
 * A pool of the application's on `url` with `max` clients; `onQuery` sees
 * the text of each query its clients are given, and its result.
 */
function appPool(url: string, max: number, onQuery?: (text: string, result: unknown) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on("error", () => {});
  if (onQuery) {
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const result = query(...args);
        const q = args[0] as string | { text?: string };
        onQuery(typeof q === "string" ? q : (q.text ?? ""), result);
        return result;
      };
    });
  }
  return pool;
}

/** Runs `fn` with a store on `pool`, then closes both. */
async function withStoreOn(pool: pg.Pool, fn: (store: Store) => Promise<void>): Promise<void> {
  const store = openStore("postgres://", { pool });
  try {
    await fn(store);
  } finally {
    await store.close();
    await pool.end();
  }
}

/** A function of that name and parameters in `schema` that fails every call. */
function planted(schema: string): string {
  return `create function ${schema}."${FUNCTION}"(bigint, bigint, bigint, text, text, text, text, text, text, text, out head bigint, out refused boolean)
    language plpgsql as $$ begin raise exception 'planted function called'; end $$`;
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

    it("initSchema makes none in the schema: each session makes its own in pg_temp, in its first call", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      await store.initSchema();
      expect(await functionsNamed(url, FUNCTION)).toEqual({});
      expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
      expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
      expect(await functionsNamed(url, FUNCTION)).toEqual({ temporary: 1 });
    });

    it("functions another role put on the search path (that name, overloads of pg_catalog's) are never called", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const [{ schema }] = (await onDatabase(url, ["select current_schema() as schema"])) as [{ schema: string }];
      await onDatabase(url, [
        "create schema coh_planted",
        planted("coh_planted"),
        planted(schema),
        // Overloads that match the store's arguments better than pg_catalog's (a name where it takes text).
        "create function coh_planted.pg_notify(text, name) returns void language plpgsql as $$ begin raise exception 'planted pg_notify called'; end $$",
        "create function coh_planted.unnest(bigint[]) returns setof bigint language plpgsql as $$ begin raise exception 'planted unnest called'; end $$",
        "create function coh_planted.cat(name, text) returns text language plpgsql as $$ begin raise exception 'planted || called'; end $$",
        "create operator coh_planted.|| (leftarg = name, rightarg = text, function = coh_planted.cat)",
      ]);
      try {
        const theirs = new URL(url);
        theirs.searchParams.set("options", `-c search_path=coh_planted,${schema}`);
        const store = openStore(theirs.toString());
        try {
          expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
          expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
          expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })])).result).toBe("conflict");
          // The statements: the write lock, NOTIFY, and the conflict check of several aggregates.
          expect((await store.rebase(3, [act(["order", 3]), act(["order", 4])])).result).toBe("ok");
          expect((await store.rebase(1, [act(["order", 5]), act(["order", 3])])).result).toBe("conflict");
          expect(await store.currentSeqNo()).toBe(4);
        } finally {
          await store.close();
        }
      } finally {
        await onDatabase(url, ["drop schema coh_planted cascade", `drop function "${FUNCTION}"`]);
      }
    });

    it("a session whose temporary objects the application discarded (DISCARD TEMP) makes it again", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      let made = 0;
      const pool = appPool(url, 1, (text) => {
        if (text.includes("create or replace function pg_temp.")) made++;
      });
      await withStoreOn(pool, async (store) => {
        expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect((await other.rebase(2, [act(["order", 2])])).result).toBe("ok");
        expect(await store.rebase(1, [act(["order", 3])])).toMatchObject({ result: "ok", events: [{ seqNo: 3 }] });
        expect(made).toBe(1);
        await pool.query("discard temp");
        expect((await other.rebase(4, [act(["order", 4])])).result).toBe("ok");
        expect(await store.rebase(1, [act(["order", 5])])).toMatchObject({ result: "ok", events: [{ seqNo: 5 }] });
        expect((await store.rebase(1, [act(["order", 5], { assoc: { n: 2 } })])).result).toBe("conflict");
        expect(made).toBe(2);
      });
    });

    it("DISCARD ALL by the application (its prepared statements gone): the client goes, and each call runs again, once", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      const pool = appPool(url, 1);
      await withStoreOn(pool, async (store) => {
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        // Prepared on the client: the function's call, the statements of a batch, the reads.
        expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
        expect((await store.rebase(1, [act(["order", 3]), act(["order", 4])])).result).toBe("ok");
        expect(await store.aggregate(["order", 2])).toEqual({ state: { n: 1 }, seqNo: 2 });
        for (const [write, result] of [
          [() => store.rebase(1, [act(["order", 5])]), "ok"],
          [() => store.rebase(1, [act(["order", 6]), act(["order", 7])]), "ok"],
          [() => store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })]), "conflict"],
        ] as const) {
          await pool.query("discard all");
          expect((await write()).result).toBe(result);
        }
        await pool.query("discard all");
        expect(await store.aggregate(["order", 2])).toEqual({ state: { n: 1 }, seqNo: 2 });
        expect(await other.currentSeqNo()).toBe(7);
        expect((await collect(other.stream())).map((a) => a.seqNo)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });
    });

    it("DISCARD ALL under a projection's transaction: the client goes, but the application's code does not run twice", async () => {
      await factory.create();
      const pool = appPool(factory.lastUrl as string, 1);
      const driver = new PostgresDriver({ pool }, DEFAULT_TABLES.event);
      let runs = 0;
      const prepared = async (s: SqlSession) => {
        runs++;
        return s.all<{ x: number }>({ sql: "select $1::int as x", parameters: [7] });
      };
      try {
        expect(await driver.transaction(prepared)).toEqual([{ x: 7 }]);
        await pool.query("discard all");
        await expect(driver.transaction(prepared)).rejects.toMatchObject({ dbCode: "26000" });
        expect(runs).toBe(2);
        // The client went: the next transaction prepares on a new one.
        expect(await driver.transaction(prepared)).toEqual([{ x: 7 }]);
        // A read of the store's own runs again.
        await pool.query("discard all");
        expect(await driver.read(prepared)).toEqual([{ x: 7 }]);
        expect(runs).toBe(5);
      } finally {
        await driver.close();
        await pool.end();
      }
    });

    it("a client the application gave back inside a transaction: the call commits as the statements do", async () => {
      const other = await factory.create();
      const url = factory.lastUrl as string;
      const pool = appPool(url, 1);
      await withStoreOn(pool, async (store) => {
        // The client makes the function, behind the head.
        expect((await other.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
        const client = await pool.connect();
        await client.query("begin");
        client.release();
        expect(await store.rebase(1, [act(["order", 3])])).toMatchObject({ result: "ok", events: [{ seqNo: 3 }] });
        // Committed, and the lock let go: another process's store sees it and writes after it.
        expect(await other.currentSeqNo()).toBe(3);
        expect(await other.rebase(1, [act(["order", 4])])).toMatchObject({ result: "ok", events: [{ seqNo: 4 }] });
      });
    });

    it("a database without PL/pgSQL: initSchema makes the relations, and rebases take the statements", async () => {
      const database = freshName("coherence_test_noplpgsql");
      await admin("postgres", [`create database ${database}`]);
      try {
        const url = withDatabase(SERVER_URLS.postgres, database);
        await onDatabase(url, ["drop extension plpgsql"]);
        const store = openStore(url);
        try {
          await store.initSchema();
          expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
          expect(await store.rebase(1, [act(["order", 2])])).toMatchObject({ result: "ok", events: [{ seqNo: 2 }] });
          const c = await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })]);
          expect(c).toMatchObject({ result: "conflict", conflict: { ours: { seqNo: 3 }, theirs: { seqNo: 1 } } });
          expect(await store.currentSeqNo()).toBe(2);
        } finally {
          await store.close();
        }
      } finally {
        await admin("postgres", [`drop database if exists ${database} with (force)`]);
      }
    });

    it("a role without the TEMP right on the database: rebases take the statements", async () => {
      const owner = await factory.create();
      const url = factory.lastUrl as string;
      const database = new URL(url).pathname.slice(1);
      expect((await owner.rebase(1, [act(["order", 1])])).result).toBe("ok");
      await onDatabase(url, [`revoke temporary on database ${database} from public`]);
      try {
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
      } finally {
        await onDatabase(url, [`grant temporary on database ${database} to public`]);
      }
      expect(await owner.aggregate(["order", 1])).toEqual({ state: { n: 2 }, seqNo: 3 });
    });

    it("reads its refusal whatever boolean parser the application set for the process", async () => {
      const store = await factory.create();
      const original = pg.types.getTypeParser(16, "text");
      pg.types.setTypeParser(16, "text", (text: string) => text);
      try {
        expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
        const c = await store.rebase(1, [act(["order", 1], { assoc: { n: 2 } })]);
        expect(c).toMatchObject({ result: "conflict", conflict: { ours: { seqNo: 2 }, theirs: { seqNo: 1 } } });
        expect(await store.rebase(3, [act(["order", 2])])).toEqual({ result: "invalid-seq-no", nextSeqNo: 2 });
        expect(await store.currentSeqNo()).toBe(1);
      } finally {
        pg.types.setTypeParser(16, "text", original);
      }
    });

    it("a session the application set to read SJIS: a conflict reads back as the statements read it", async () => {
      await factory.create();
      const pool = appPool(factory.lastUrl as string, 1);
      pool.on("connect", (client) => {
        client.query("set client_encoding = 'SJIS'").catch(() => {});
      });
      const memory = openStore("memory:");
      try {
        await withStoreOn(pool, async (store) => {
          // "ŕ\\" is C5 95 5C in UTF-8: read as SJIS, a character whose second byte is a backslash.
          const theirs = act(["order", 1], { assoc: { n: 1 } }, { reason: "ŕ\\" });
          expect(await store.rebase(1, [theirs])).toEqual(await memory.rebase(1, [theirs]));
          const mine = act(["order", 1], { assoc: { n: 2 } });
          const conflict = await store.rebase(1, [mine]);
          expect(conflict).toEqual(await memory.rebase(1, [mine]));
          expect(conflict).toMatchObject({ result: "conflict", conflict: { theirs: { action: { reason: "ŕ\\" } } } });
        });
      } finally {
        await memory.close();
      }
    });

    it("runs READ COMMITTED whatever the sessions' default isolation: contending writers get gapless seqNos", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      // The calls of the function that failed (a stale head would collide with a stored seqNo).
      const failed: string[] = [];
      const clients = new Set<unknown>();
      const pools = [0, 1].map(() => {
        const pool = appPool(url, 2, (text, result) => {
          if (text.includes(FUNCTION) && result instanceof Promise) {
            result.catch((error: { code?: string; message?: string }) => failed.push(`${error.code} ${error.message}`));
          }
        });
        pool.on("connect", (client) => {
          clients.add(client);
          // Queued before the store's first query on the client.
          client.query("set default_transaction_isolation = serializable").catch(() => {});
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
        // No call read a stale head (a snapshot taken before its lock was granted) and failed: a call
        // in autocommit found the transaction not READ COMMITTED before it took the lock, once a client,
        // and the client's calls took BEGIN READ COMMITTED from then on.
        expect(failed.length).toBeLessThanOrEqual(clients.size);
        expect(new Set(failed)).toEqual(new Set(["P0001 coherence-store: not read committed"]));
      } finally {
        await first.close();
        await second.close();
        for (const pool of pools) await pool.end();
      }
    });
  });
}
