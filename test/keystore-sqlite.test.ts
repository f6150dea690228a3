import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { EventStore } from "../src/event-store.js";
import { openKeystore, openStore, type Store } from "../src/index.js";
import type { SqlBackend } from "../src/sql/sql-backend.js";
import { sqliteFactory } from "./stores.js";
import { receipt } from "./support/events.js";

const factory = sqliteFactory();
afterAll(() => factory.dispose());

/** The bytes of the database file and its WAL, as they are on disk now. */
function files(path: string): Buffer {
  return Buffer.concat([`${path}`, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f)));
}

/** The wrapped keys as stored, read on a connection of its own (closed again, so it holds no snapshot). */
function wrappedKeys(path: string): Map<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT trigger_id, wrapped FROM events_keys WHERE wrapped IS NOT NULL").all() as {
      trigger_id: string;
      wrapped: string;
    }[];
    return new Map(rows.map((r) => [r.trigger_id, r.wrapped]));
  } finally {
    db.close();
  }
}

/** The store's driver, whose scrub runs after a commit that shredded keys. */
function scrubber(store: Store): { scrub(table: string): Promise<boolean> } {
  return ((store as EventStore).backend as SqlBackend).driver as { scrub(table: string): Promise<boolean> };
}

async function receipts(store: Store, master: Buffer) {
  const keystore = openKeystore(store, { masterKey: master });
  const no1 = await keystore.encrypt(["encryption-key", 1], "avd2dlg3g93fm1osu");
  const no2 = await keystore.encrypt(["encryption-key", 2], "kepf62djsdk8fw21");
  expect((await store.rebase(1, [receipt(1, no1, 100), receipt(2, no2, 200)])).result).toBe("ok");
  return keystore;
}

describe("keystore on SQLite: a shredded key leaves the database's files", () => {
  it("after expiry neither the database file nor its WAL holds the wrapped key captured before, nor any plaintext", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const keystore = await receipts(store, randomBytes(32));

    const before = wrappedKeys(path);
    const key1 = before.get("1") as string;
    const key2 = before.get("2") as string;
    expect(key1).toMatch(/^kw1\./);
    // The scan finds what is there: both keys, before expiry.
    expect(files(path).includes(key1)).toBe(true);
    expect(files(path).includes(key2)).toBe(true);

    const expired = await keystore.expire(["encryption-key", 1]);
    expect(expired).toMatchObject({ result: "expired", scrubbed: true });

    const after = files(path);
    expect(after.includes(key1)).toBe(false);
    // Not even a piece of it: the row's new, shorter cell overwrites part of the old one, secure_delete the rest.
    for (let i = 0; i + 8 <= key1.length; i++) expect(after.includes(key1.slice(i, i + 8))).toBe(false);
    expect(after.includes(key2)).toBe(true);
    for (const plain of ["avd2dlg3g93fm1osu", "kepf62djsdk8fw21"]) expect(after.includes(plain)).toBe(false);
  });

  it("a key whose rows the key relation moved around as it grew (50 keys made after it) leaves no piece either", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const keystore = openKeystore(store, { masterKey: randomBytes(32) });
    await keystore.encrypt(["subject", "victim"], "card 4111-1111-1111-1111");
    const key = wrappedKeys(path).get('"victim"') as string;
    // Page splits copy the row's cell to other pages and free the old space; only secure_delete zeroes it.
    for (let i = 0; i < 50; i++) await keystore.encrypt(["subject", `other-${i}`], i);
    expect(await keystore.expire(["subject", "victim"])).toMatchObject({ result: "expired", scrubbed: true });
    await store.close();
    const after = files(path);
    for (let i = 0; i + 8 <= key.length; i++) expect(after.includes(key.slice(i, i + 8))).toBe(false);
  });

  it("after master-key rotation the files no longer hold the keys wrapped by the old master key", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const keystore = await receipts(store, randomBytes(32));
    const before = [...wrappedKeys(path).values()];
    expect(await keystore.rotateMasterKey(randomBytes(32))).toEqual({ rewrapped: 2, scrubbed: true });
    const after = files(path);
    for (const old of before) expect(after.includes(old)).toBe(false);
    for (const now of wrappedKeys(path).values()) expect(files(path).includes(now)).toBe(true);
  });

  it("a rotation while a reader holds an old snapshot reports scrubbed: false; the next rotation clears the files", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const keystore = await receipts(store, randomBytes(32));
    const first = [...wrappedKeys(path).values()];
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM events_keys").get();
      expect(await keystore.rotateMasterKey(randomBytes(32))).toEqual({ rewrapped: 2, scrubbed: false });
      reader.exec("COMMIT");
    } finally {
      reader.close();
    }
    expect(await keystore.rotateMasterKey(randomBytes(32))).toEqual({ rewrapped: 2, scrubbed: true });
    const after = files(path);
    for (const old of first) expect(after.includes(old)).toBe(false);
  });

  it("a scrub the process did not get to (it ended after the expiry's commit) is done by the next expireDue, with no key due", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const keystore = await receipts(store, randomBytes(32));
    const key1 = wrappedKeys(path).get("1") as string;
    // As if the process ended between the expiry's commit and its checkpoint.
    const crash = vi.spyOn(scrubber(store), "scrub").mockRejectedValue(new Error("the process ended"));
    await expect(keystore.expire(["encryption-key", 1])).rejects.toThrow("the process ended");
    crash.mockRestore();
    expect(files(path).includes(key1)).toBe(true);
    // The next process's cron run.
    const next = openStore(`sqlite:${path}`);
    try {
      const later = openKeystore(next, { masterKey: randomBytes(32) });
      expect(await later.keys()).toMatchObject([{ expiredAt: expect.any(Date) }, { expiredAt: null }]);
      expect(await later.expireDue()).toEqual({ effects: [], scrubbed: true });
      expect(files(path).includes(key1)).toBe(false);
      // Done: the next run has nothing to scrub.
      const spy = vi.spyOn(scrubber(next), "scrub");
      expect(await later.expireDue()).toEqual({ effects: [], scrubbed: true });
      expect(spy).not.toHaveBeenCalled();
    } finally {
      await next.close();
    }
  });

  it("a slow scrub finishing after a newer unscrubbed expiry does not mark that one done (two scrubbers overlap)", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const master = randomBytes(32);
    const keystore = await receipts(store, master);
    const key2 = wrappedKeys(path).get("2") as string;
    // Expiry 1 commits; its scrub cannot finish (a reader, say).
    const held = vi.spyOn(scrubber(store), "scrub").mockResolvedValue(false);
    expect(await keystore.expire(["encryption-key", 1])).toMatchObject({ scrubbed: false });
    held.mockRestore();
    // Scrubber A (another process) finishes its checkpoint, then stalls before it records it.
    const other = openStore(`sqlite:${path}`);
    try {
      let release = () => {};
      const gate = new Promise<void>((r) => (release = r));
      let checkpointed = () => {};
      const done = new Promise<void>((r) => (checkpointed = r));
      const a = scrubber(other);
      const real = a.scrub;
      vi.spyOn(a, "scrub").mockImplementation(async (table) => {
        const result = await real.call(a, table);
        checkpointed();
        await gate;
        return result;
      });
      const slow = openKeystore(other, { masterKey: master }).expireDue();
      await done;
      // Scrubber B finishes and records it; then expiry 2 commits, and its process ends before its scrub.
      expect(await keystore.expireDue()).toEqual({ effects: [], scrubbed: true });
      const crash = vi.spyOn(scrubber(store), "scrub").mockRejectedValue(new Error("the process ended"));
      await expect(keystore.expire(["encryption-key", 2])).rejects.toThrow("the process ended");
      crash.mockRestore();
      expect(files(path).includes(key2)).toBe(true);
      release();
      expect(await slow).toEqual({ effects: [], scrubbed: true });
      // Expiry 2 is still pending: the next cron run scrubs it.
      expect(await keystore.expireDue()).toEqual({ effects: [], scrubbed: true });
      expect(files(path).includes(key2)).toBe(false);
    } finally {
      await other.close();
    }
  });
});
