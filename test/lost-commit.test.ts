import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { ConnectionError, openStore, type Store } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { act, collect, eff } from "./support/events.js";

/**
 * A TCP proxy in front of a server that, once armed, passes on the first
 * client packet holding a COMMIT (or, armed for "any", the next packet),
 * swallows every answer after it, and cuts both sockets once the server has
 * answered and then been quiet for 100 ms (10 s at most): the client never
 * learns whether its transaction committed. Armed for "drop", it drops the
 * next client packet instead and resets both sockets at once: a connection
 * that died while idle (a NAT's or balancer's idle timeout), found by the
 * first write after it.
 */
class CommitCutter {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  armed: "commit" | "any" | "drop" | false = false;
  cuts = 0;

  constructor(target: { host: string; port: number }) {
    this.#server = net.createServer((client) => {
      const server = net.connect(target.port, target.host);
      let swallowing = false;
      let cut: NodeJS.Timeout | undefined;
      for (const socket of [client, server]) {
        this.#sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          this.#sockets.delete(socket);
          client.destroy();
          server.destroy();
        });
      }
      client.on("data", (chunk) => {
        if (this.armed === "drop") {
          this.armed = false;
          this.cuts++;
          server.destroy();
          client.resetAndDestroy();
          return;
        }
        server.write(chunk);
        // A word: "read committed" opens every transaction.
        if (this.armed === "any" || (this.armed === "commit" && /\bcommit\b/i.test(chunk.toString("latin1")))) {
          this.armed = false;
          swallowing = true;
          this.cuts++;
          // Not a fixed delay: a loaded server can take longer than any to run the COMMIT.
          cut = setTimeout(() => client.destroy(), 10_000);
        }
      });
      server.on("data", (chunk) => {
        if (!swallowing) client.write(chunk);
        else {
          clearTimeout(cut);
          cut = setTimeout(() => client.destroy(), 100);
        }
      });
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.#server.listen(0, "127.0.0.1", () => resolve((this.#server.address() as net.AddressInfo).port)),
    );
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A connection lost after the server received a rebase's COMMIT, before its
 * answer came back: the outcome is unknown to the store, so it must not run
 * the rebase again on another connection (it would be written twice). The
 * caller gets a ConnectionError and retries with the rebase's id.
 */
for (const factory of storesNamed("postgres", "mysql")) {
  describe(`${factory.name}: a COMMIT whose answer is lost`, () => {
    const opened: Store[] = [];
    let cutter: CommitCutter | undefined;
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
      await cutter?.close();
      await factory.dispose();
    });

    it("rejects with a ConnectionError, the events are stored once, and a retry with the id writes nothing more", async () => {
      const direct = await factory.create();
      const url = new URL(factory.lastUrl as string);
      cutter = new CommitCutter({ host: url.hostname, port: Number(url.port) });
      url.host = `127.0.0.1:${await cutter.listen()}`;
      const store = openStore(url.toString());
      opened.push(store);

      expect((await store.rebase(1, [act(["book", 1], { assoc: { n: 1 } })])).result).toBe("ok");

      // An action with an id, on the head: the fast path, COMMIT in the first round trip.
      cutter.armed = "commit";
      const history = [act(["book", 2], { assoc: { n: 2 } })];
      await expect(store.rebase(2, history, { id: "lost-1" })).rejects.toBeInstanceOf(ConnectionError);
      expect(await direct.currentSeqNo()).toBe(2);
      const retried = await store.rebase(2, history, { id: "lost-1" });
      expect(retried.result === "ok" && retried.events.map((e) => e.seqNo)).toEqual([2]);

      // An effect behind the head: no conflict check could catch a second copy.
      cutter.armed = "commit";
      await expect(store.rebase(1, [eff(["key", 1])])).rejects.toBeInstanceOf(ConnectionError);
      expect(await direct.currentSeqNo()).toBe(3);
      expect(cutter.cuts).toBe(2);

      // The store goes on, on a new connection.
      expect((await store.rebase(4, [act(["book", 1], { assoc: { n: 3 } })])).result).toBe("ok");
      expect((await collect(direct.stream())).map((a) => a.seqNo)).toEqual([1, 2, 4]);
      expect(await direct.currentSeqNo()).toBe(4);

      // One action behind the head (after the effect): a call of the stored routine, which commits
      // by itself (on PostgreSQL, once the connection has made its function, one query in autocommit).
      expect(await store.rebase(4, [act(["book", 5])])).toMatchObject({ result: "ok", events: [{ seqNo: 5 }] });
      cutter.armed = "any";
      await expect(store.rebase(4, [act(["book", 6])])).rejects.toBeInstanceOf(ConnectionError);
      expect(cutter.cuts).toBe(3);
      expect(await direct.currentSeqNo()).toBe(6);
      expect(await store.rebase(4, [act(["book", 7])])).toMatchObject({ result: "ok", events: [{ seqNo: 7 }] });
      expect((await collect(direct.stream({ offset: 5 }))).map((a) => a.action.aggregate)).toEqual([
        ["book", 5],
        ["book", 6],
        ["book", 7],
      ]);
    });

    it("a connection lost before COMMIT was sent: the rebase runs again on another connection and is written once", async () => {
      const direct = await factory.create();
      const url = new URL(factory.lastUrl as string);
      const cutter = new CommitCutter({ host: url.hostname, port: Number(url.port) });
      url.host = `127.0.0.1:${await cutter.listen()}`;
      const store = openStore(url.toString());
      try {
        expect((await store.rebase(1, [act(["book", 1])])).result).toBe("ok");
        // With an id, the first round trip reads the rebase records: no COMMIT in it.
        cutter.armed = "any";
        const r = await store.rebase(2, [act(["book", 2])], { id: "cut-early" });
        expect(cutter.cuts).toBe(1);
        expect(r.result === "ok" && r.events.map((e) => e.seqNo)).toEqual([2]);
        expect(await direct.currentSeqNo()).toBe(2);
      } finally {
        await store.close();
        await cutter.close();
      }
    });

    for (const [kind, history] of [
      ["two actions (the statements)", [act(["b", 1]), act(["b", 2])]],
      ["one action behind the head (the stored routine)", [act(["b", 1])]],
    ] as const) {
      it(`a connection that died while idle, found by its first write: ${kind} runs on another, once`, async () => {
        const direct = await factory.create();
        const url = new URL(factory.lastUrl as string);
        const hole = new CommitCutter({ host: url.hostname, port: Number(url.port) });
        url.host = `127.0.0.1:${await hole.listen()}`;
        const store = openStore(
          url.toString(),
          factory.name === "postgres" ? { postgres: { max: 1 } } : { mysql: { connectionLimit: 1 } },
        );
        try {
          // Behind the head from the second on: the routine (on PostgreSQL made by the second, called alone by the third).
          for (const n of [1, 2, 3]) expect((await store.rebase(1, [act(["a", n])])).result).toBe("ok");
          // Idle long enough that the next write takes a round trip of its own first (PROBE_AFTER_IDLE_MS).
          await new Promise((resolve) => setTimeout(resolve, 250));
          hole.armed = "drop";
          const r = await store.rebase(1, [...history]);
          expect(r.result === "ok" && r.events.map((e) => e.seqNo)).toEqual(history.map((_, i) => 4 + i));
          expect(hole.cuts).toBe(1);
          expect(await direct.currentSeqNo()).toBe(3 + history.length);
        } finally {
          await store.close();
          await hole.close();
        }
      });
    }
  });
}
