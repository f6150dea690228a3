import mysql from "mysql2";
import mysqlPromise from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ConnectionError, DatabaseError, openStore, type Store, ValidationError } from "../src/index.js";
import { type StoreFactory, storeFactories } from "./stores.js";
import { act } from "./support/events.js";

describe("server stores: opening", () => {
  it("a server URL without a server, or a pool with a server URL or a SQLite URL, is a ValidationError", () => {
    const pool = new pg.Pool();
    expect(() => openStore("postgres://")).toThrow(ValidationError);
    expect(() => openStore("postgres://localhost/db", { pool })).toThrow(ValidationError);
    expect(() => openStore("sqlite::memory:", { pool })).toThrow(ValidationError);
    expect(() => openStore("mysql://", { pool: {} as never })).toThrow(ValidationError);
    expect(() => openStore("mysql://localhost/db", { postgres: {} })).toThrow(ValidationError);
    expect(() => openStore("postgres://localhost/db", { postgres: 5 as never })).toThrow(ValidationError);
  });

  it("an application's pg pool made from a connection string: a ConnectionError names its server and database, never its password", async () => {
    const pool = new pg.Pool({
      connectionString: "postgres://app:s3cret@127.0.0.1:1/appdb",
      connectionTimeoutMillis: 2000,
    });
    pool.on("error", () => {});
    const store = openStore("postgres://", { pool });
    try {
      const error = await store.initSchema().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toBe("ConnectionError");
      // pg keeps the string as given: the store named localhost:5432/(default) instead.
      expect(error?.message).toContain("127.0.0.1:1/appdb");
      expect(error?.message).not.toContain("s3cret");
    } finally {
      await store.close();
      await pool.end();
    }
  });

  it("pg's binary: true (results the store cannot read back) is refused, on a pool of yours or in options.postgres", () => {
    // pg takes it, though its types do not list it.
    const binary = new pg.Pool({ binary: true } as pg.PoolConfig);
    expect(() => openStore("postgres://", { pool: binary })).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "unsupported", path: "options.pool" }),
    );
    expect(() => openStore("postgres://localhost/db", { postgres: { binary: true } as never })).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "unsupported", path: "options.postgres.binary" }),
    );
    // pg reads any truthy value as true.
    for (const truthy of [1, "yes"]) {
      expect(() => openStore("postgres://localhost/db", { postgres: { binary: truthy } as never })).toThrow(
        expect.objectContaining({ name: "ValidationError", code: "unsupported", path: "options.postgres.binary" }),
      );
    }
    void openStore("postgres://localhost/db", { postgres: { binary: false } as never }).close();
    // pg-pool's poolSize (max where max is not given) is read, and a valid one accepted.
    void openStore("postgres://localhost/db", { postgres: { poolSize: 3 } as never }).close();
  });

  it("PostgreSQL: a URL without a port goes to pg's default, and the error says so; options.postgres.port is refused", async () => {
    // pg reads the URL over the options: a part the URL lacks is pg's default, never the option's.
    expect(() => openStore("postgres://alice@127.0.0.1/shop_missing", { postgres: { port: 1 } })).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "forbidden-key", path: "options.postgres.port" }),
    );
    const store = openStore("postgres://alice:s3cr3t-pw@127.0.0.1/shop_missing", {
      postgres: { connectionTimeoutMillis: 3000 },
    });
    const error = await store.initSchema().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain("127.0.0.1:5432/shop_missing");
    expect((error as Error).message).not.toContain("s3cr3t");
    await store.close();
  });

  for (const [name, url] of [
    ["PostgreSQL", "postgres://alice:s3cr3t-pw@127.0.0.1:1/shop"],
    ["MySQL", "mysql://alice:s3cr3t-pw@127.0.0.1:1/shop"],
    // pg connects to the query's host and port (mysql2 would ignore them: openStore refuses them there).
    ["PostgreSQL, host and port in the query", "postgres://alice:s3cr3t-pw@db.invalid:5432/shop?host=127.0.0.1&port=1"],
  ] as const) {
    it(`${name}: a server that does not answer gives a ConnectionError naming host, port and database, never the password`, async () => {
      const store = openStore(url);
      const error = await store.initSchema().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: "connection", dbCode: "ECONNREFUSED" });
      expect((error as Error).message).toContain("127.0.0.1:1/shop");
      expect((error as Error).message).not.toContain("s3cr3t");
      expect((error as Error).cause).toBeInstanceOf(Error);
      await store.close();
    });
  }
});

/** The relations of a store, read without it. */
async function metaRows(name: string, url: string): Promise<{ name: string; value: number }[]> {
  const sql = "select name, value from events_meta order by name";
  if (name === "postgres") {
    const client = new pg.Client(url);
    await client.connect();
    try {
      return (await client.query(sql)).rows.map((r) => ({ name: r.name, value: Number(r.value) }));
    } finally {
      await client.end();
    }
  }
  const connection = await mysqlPromise.createConnection(url);
  try {
    const [rows] = await connection.query(sql);
    return (rows as { name: Buffer; value: number }[]).map((r) => ({ name: String(r.name), value: Number(r.value) }));
  } finally {
    await connection.end();
  }
}

/** Runs one statement on a store's database without the store. */
async function rawRun(name: string, url: string, sql: string): Promise<void> {
  if (name === "postgres") {
    const client = new pg.Client(url);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return;
  }
  const connection = await mysqlPromise.createConnection(url);
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

function testServerStore(factory: StoreFactory): void {
  describe(`server store: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("initSchema run by four stores at once, then again, succeeds and records schema version 3", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const stores = Array.from({ length: 4 }, () => openStore(url));
      try {
        await Promise.all(stores.map((s) => s.initSchema()));
        await Promise.all(stores.map((s) => s.initSchema()));
        expect((await stores[0]?.rebase(1, [act(["k", 1])]))?.result).toBe("ok");
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      expect(await metaRows(factory.name, url)).toEqual([
        { name: "schema-version", value: 3 },
        { name: "write-lock", value: 0 },
      ]);
    });

    it("the scheme's other name (postgresql://, mariadb://) opens the same store", async () => {
      const store = await factory.create();
      expect((await store.rebase(1, [act(["k", 1])])).result).toBe("ok");
      const url = factory.lastUrl as string;
      const other = url.replace(/^postgres:/, "postgresql:").replace(/^mysql:/, "mariadb:");
      expect(other).not.toBe(url);
      const again = openStore(other);
      try {
        expect(await again.currentSeqNo()).toBe(1);
        expect((await again.rebase(2, [act(["k", 2])])).result).toBe("ok");
        expect(await store.currentSeqNo()).toBe(2);
      } finally {
        await again.close();
      }
    });

    it("kinds and ids compare byte for byte: 'a', 'A', 'a ' and 'á' are four aggregates", async () => {
      const store = await factory.create();
      const ids = ["a", "A", "a ", "á", "a\u0301"];
      for (const [i, id] of ids.entries()) {
        const r = await store.rebase(i + 1, [act([id, id], { assoc: { i } })]);
        expect(r.result).toBe("ok");
      }
      for (const [i, id] of ids.entries()) {
        expect(await store.aggregate([id, id])).toEqual({ state: { i }, seqNo: i + 1 });
        expect((await store.conflicts(1, [id, id])).map((e) => e.seqNo)).toEqual([i + 1]);
      }
    });

    it("a failing statement is a DatabaseError with the driver error as cause, the query and the database's code", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      const other = openStore(url, { tables: { event: "nothing_here" } });
      try {
        const error = await other.currentSeqNo().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).not.toBeInstanceOf(ConnectionError);
        expect((error as DatabaseError).query).toMatch(/nothing_here/);
        expect((error as DatabaseError).dbCode).toBe(factory.name === "postgres" ? "42P01" : "ER_NO_SUCH_TABLE");
        expect((error as DatabaseError).cause).toBeInstanceOf(Error);
      } finally {
        await other.close();
      }
      expect(await store.currentSeqNo()).toBe(0);
    });

    it("a statement that fails in a write's later round trip is the error reported; nothing is written and the store goes on", async () => {
      const store = await factory.create();
      const url = factory.lastUrl as string;
      await rawRun(factory.name, url, "alter table actions add constraint no_boom check (reason <> 'boom')");
      expect((await store.rebase(1, [act(["k", 1])])).result).toBe("ok");
      const boom = { ...act(["k", 2]), action: { ...act(["k", 2]).action, reason: "boom" } };
      const error = await store.rebase(2, [act(["k", 3]), boom]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DatabaseError);
      // The constraint's own failure, not a later statement's (an aborted transaction, a dropped session).
      expect(String((error as DatabaseError).cause)).toMatch(/no_boom/);
      expect(await store.currentSeqNo()).toBe(1);
      for (let i = 0; i < 3; i++) expect((await store.rebase(2 + i, [act(["k", 4])])).result).toBe("ok");
      expect(await store.currentSeqNo()).toBe(4);
    });

    it("a history bigger than one statement may be (MySQL's max_allowed_packet) is written, all of it", async () => {
      const store = await factory.create();
      const big = "x".repeat(1_000_000);
      const history = Array.from({ length: 24 }, (_, i) => act(["big", i], { assoc: { big, i } }));
      const r = await store.rebase(1, history);
      expect(r.result).toBe("ok");
      expect(await store.aggregate(["big", 23])).toEqual({ state: { big, i: 23 }, seqNo: 24 });
    });

    it("a password in the options, where the URL has none, is the one the connections use", async () => {
      await factory.create();
      const url = new URL(factory.lastUrl as string);
      const password = decodeURIComponent(url.password);
      url.password = "";
      if (factory.name === "postgres") {
        // pg reads host, port, user, password and database from a URL alone: the store passes this one on.
        const seen: { password: unknown; host: string; port: number; database: string | undefined }[] = [];
        class Recording extends pg.Client {
          constructor(config?: pg.ClientConfig) {
            super(config);
            seen.push({ password: this.password, host: this.host, port: this.port, database: this.database });
          }
        }
        const given = password || "s3cret-from-options";
        const store = openStore(url.toString(), { postgres: { password: given, Client: Recording } });
        try {
          expect(await store.currentSeqNo()).toBe(0);
        } finally {
          await store.close();
        }
        expect(seen[0]).toEqual({
          password: given,
          host: url.hostname,
          port: Number(url.port || 5432),
          database: url.pathname.slice(1),
        });
      } else {
        const store = openStore(url.toString(), { mysql: { password: `${password}-wrong` } });
        try {
          const error = await store.currentSeqNo().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(DatabaseError);
          expect((error as DatabaseError).dbCode).toBe("ER_ACCESS_DENIED_ERROR");
        } finally {
          await store.close();
        }
        const right = openStore(url.toString(), { mysql: { password } });
        try {
          expect(await right.currentSeqNo()).toBe(0);
        } finally {
          await right.close();
        }
      }
    });

    it("opens on the application's pool and leaves it open on close()", async () => {
      await factory.create();
      const url = factory.lastUrl as string;
      const use = async (store: Store) => {
        await store.initSchema();
        expect((await store.rebase(1, [act(["pool", 1])])).result).toBe("ok");
        expect(await store.currentSeqNo()).toBe(1);
        await store.close();
      };
      if (factory.name === "postgres") {
        // One client, so the one the store pipelined its writes on is the one checked here.
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        // An idle client terminated by the test database's drop would otherwise end the process.
        pool.on("error", () => {});
        await use(openStore("postgres://", { pool }));
        expect((await pool.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
        const client = await pool.connect();
        expect(client.pipeline).toBe(false);
        client.release();
        await pool.end();
      } else {
        const callbackPool = mysql.createPool({ uri: url });
        await use(openStore("mysql://", { pool: callbackPool }));
        const promisePool = mysqlPromise.createPool({ uri: url });
        const other = openStore("mariadb://", { pool: promisePool });
        expect(await other.currentSeqNo()).toBe(1);
        await other.close();
        const [rows] = await promisePool.query("select 1 as one");
        expect(rows).toEqual([{ one: 1 }]);
        await promisePool.end();
        await new Promise<void>((resolve, reject) => callbackPool.end((e) => (e ? reject(e) : resolve())));
      }
    });
  });
}

for (const factory of storeFactories()) {
  if (factory.name === "postgres" || factory.name === "mysql") testServerStore(factory);
}
