import { EventEmitter } from "node:events";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import type { PostgresClient } from "../src/sql/dialects/postgres/postgres-driver.js";
import { PostgresListener } from "../src/sql/dialects/postgres/postgres-listener.js";
import { storesNamed } from "./stores.js";
import { act } from "./support/events.js";

for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL: the LISTEN connection goes back to the pool as it came", () => {
    afterAll(() => factory.dispose());

    it("after 12 followers came and went, the pool's two clients carry none of their listeners", async () => {
      await (await factory.create()).initSchema();
      const pool = new pg.Pool({ connectionString: factory.lastUrl as string, max: 2 });
      // pg's end() resolves before its clients' sockets close: the test database's drop (WITH FORCE) may
      // still terminate one, and an idle client's error on a pool nobody listens to ends the process.
      pool.on("error", () => {});
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

for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL: the LISTEN connection's late errors", () => {
    afterAll(() => factory.dispose());

    it("an error of the LISTEN client after close() (its server going away while it ends) is heard, not thrown", async () => {
      await factory.create();
      const listening: pg.Client[] = [];
      class RecordedClient extends pg.Client {
        // biome-ignore lint/suspicious/noExplicitAny: pg's overloads of query
        override query(...args: any[]): any {
          const text = typeof args[0] === "string" ? args[0] : args[0]?.text;
          if (/^listen /i.test(String(text)) && !listening.includes(this)) listening.push(this);
          return (super.query as (...a: unknown[]) => unknown)(...args);
        }
      }
      const pool = new pg.Pool({ connectionString: factory.lastUrl as string, Client: RecordedClient });
      pool.on("error", () => {});
      const store = openStore("postgres://", { pool });
      try {
        const controller = new AbortController();
        for await (const _ of store.follow({ signal: controller.signal, onCaughtUp: () => controller.abort() })) {
          // Empty: caught up at once.
        }
        // close() waits for the listener's queue: its LISTEN has run by then.
        await store.close();
        expect(listening).toHaveLength(1);
        for (const client of listening)
          expect(() => client.emit("error", new Error("terminating connection"))).not.toThrow();
      } finally {
        await store.close();
        await pool.end();
      }
    });
  });
}

/** A client of the listener's own: records its queries, answers the schema query, emits what a test tells it. */
class FakeClient extends EventEmitter {
  readonly queries: string[] = [];
  released = false;
  async query({ text }: { text: string }): Promise<{ rows: unknown[] }> {
    this.queries.push(text);
    return { rows: text.includes("current_schema") ? [{ schema: "s" }] : [] };
  }
  release(): void {
    this.released = true;
  }
}

describe("PostgresListener: a follower that fails with the connection leaves later ones alone", () => {
  it("the unsubscribe of a follower told of the failure neither UNLISTENs nor drops the next follower's connection", async () => {
    const clients: FakeClient[] = [];
    const listener = new PostgresListener(
      async () => {
        const client = new FakeClient();
        clients.push(client);
        return client as unknown as PostgresClient;
      },
      (error) => error,
    );
    const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
    const failed: unknown[] = [];
    const unsubscribeA = listener.subscribe(
      "c",
      () => {},
      (error) => failed.push(error),
    );
    await settle();
    clients[0]?.emit("error", new Error("terminating connection"));
    expect(failed).toHaveLength(1);

    let notified = 0;
    const unsubscribeB = listener.subscribe(
      "c",
      () => notified++,
      () => {},
    );
    await settle();
    unsubscribeA();
    await settle();
    expect(clients).toHaveLength(2);
    expect(clients[1]?.queries.some((q) => /unlisten/i.test(q))).toBe(false);
    expect(clients[1]?.released).toBe(false);
    clients[1]?.emit("notification", { channel: "c", payload: "s" });
    expect(notified).toBe(1);

    unsubscribeB();
    await settle();
    expect(clients[1]?.queries.some((q) => /unlisten/i.test(q))).toBe(true);
    await listener.close();
  });
});

for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL: followers take no connection from the store's pool", () => {
    afterAll(() => factory.dispose());

    it("with a pool of one connection, a follower hears a commit and the store's other calls go on", async () => {
      await factory.create();
      const store = openStore(factory.lastUrl as string, { postgres: { max: 1 } });
      const controller = new AbortController();
      const seen: number[] = [];
      const deadline = setTimeout(() => controller.abort(), 10_000);
      try {
        let caughtUp = () => {};
        const upToDate = new Promise<void>((resolve) => {
          caughtUp = resolve;
        });
        const following = (async () => {
          for await (const e of store.follow({ signal: controller.signal, onCaughtUp: () => caughtUp() })) {
            seen.push(e.seqNo);
            if (seen.length === 2) controller.abort();
          }
        })();
        await upToDate;
        expect((await store.rebase(1, [act(["order", 1])])).result).toBe("ok");
        expect(await store.currentSeqNo()).toBe(1);
        expect((await store.rebase(2, [act(["order", 2])])).result).toBe("ok");
        await following;
        expect(seen).toEqual([1, 2]);
      } finally {
        clearTimeout(deadline);
        controller.abort();
        await store.close();
      }
    });
  });
}

for (const factory of storesNamed("postgres")) {
  describe("PostgreSQL: a follower outlives its LISTEN connection", () => {
    afterAll(() => factory.dispose());

    it("the LISTEN backend terminated: the follower goes on delivering and listens again on a new connection", async () => {
      const writer = await factory.create();
      const url = factory.lastUrl as string;
      const store = openStore(url);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const listening = async () =>
        (
          await admin.query(
            "select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %' and pid <> pg_backend_pid()",
          )
        ).rows.map((r) => (r as { pid: number }).pid);
      const until = async (done: () => Promise<boolean>) => {
        for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
      };
      const controller = new AbortController();
      const deadline = setTimeout(() => controller.abort(), 20_000);
      const seen: number[] = [];
      try {
        const following = (async () => {
          for await (const e of store.follow({ signal: controller.signal })) {
            seen.push(e.seqNo);
            if (seen.length === 2) controller.abort();
          }
        })();
        await until(async () => (await listening()).length === 1);
        const [first] = await listening();
        expect(first).toBeDefined();
        await admin.query("select pg_terminate_backend($1)", [first]);
        expect((await writer.rebase(1, [act(["order", 1])])).result).toBe("ok");
        await until(async () => seen.length >= 1);
        expect(seen).toEqual([1]);
        // Listening again, on another connection, about WATCH_RETRY_MS later.
        await until(async () => (await listening()).some((pid) => pid !== first));
        expect((await listening()).filter((pid) => pid !== first)).toHaveLength(1);
        expect((await writer.rebase(2, [act(["order", 2])])).result).toBe("ok");
        await following;
        expect(seen).toEqual([1, 2]);
      } finally {
        clearTimeout(deadline);
        controller.abort();
        await admin.end();
        await store.close();
      }
    });
  });
}
