import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { SqliteDriver } from "../src/sql/dialects/sqlite/sqlite-driver.js";
import { TRAILING_WAKEUPS_MS, watchWal } from "../src/sql/dialects/sqlite/wal-watch.js";

const dir = mkdtempSync(join(tmpdir(), "coherence-wal-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A WAL database at a fresh path, written by a connection of its own (as another process would). */
function database(name: string): { path: string; write: () => void; close: () => void } {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("create table t (n integer)");
  const insert = db.prepare("insert into t (n) values (1)");
  return { path, write: () => insert.run(), close: () => db.close() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 2 * (TRAILING_WAKEUPS_MS.at(-1) ?? 0) + 50));

describe("sqlite: the WAL watcher", () => {
  it("calls its listeners when another connection commits, then again at each trailing delay", async () => {
    const db = database("a.db");
    const calls: number[] = [];
    const stop = watchWal(db.path, () => calls.push(performance.now()));
    try {
      await settle();
      const before = calls.length;
      db.write();
      await vi.waitFor(() => expect(calls.length).toBeGreaterThan(before), { timeout: 2000 });
      await settle();
      // At least once for the write itself, then once per trailing delay.
      expect(calls.length - before).toBeGreaterThanOrEqual(1 + TRAILING_WAKEUPS_MS.length);
    } finally {
      stop();
      db.close();
    }
  });

  it("shares one watcher among listeners; each unsubscribes alone, and none is called after", async () => {
    const db = database("b.db");
    let first = 0;
    let second = 0;
    const stopFirst = watchWal(db.path, () => first++);
    const stopSecond = watchWal(db.path, () => second++);
    try {
      db.write();
      await vi.waitFor(() => expect(first > 0 && second > 0).toBe(true), { timeout: 2000 });
      await settle();
      stopFirst();
      const [a, b] = [first, second];
      db.write();
      await vi.waitFor(() => expect(second).toBeGreaterThan(b), { timeout: 2000 });
      await settle();
      expect(first).toBe(a);
      stopSecond();
      const c = second;
      db.write();
      await settle();
      expect(second).toBe(c);
      // Subscribing again after the last one left watches anew.
      let third = 0;
      const stopThird = watchWal(db.path, () => third++);
      db.write();
      await vi.waitFor(() => expect(third).toBeGreaterThan(0), { timeout: 2000 });
      stopThird();
    } finally {
      stopFirst();
      stopSecond();
      db.close();
    }
  });

  it("ignores the other files of the directory", async () => {
    const db = database("c.db");
    const other = database("c2.db");
    let calls = 0;
    const stop = watchWal(db.path, () => calls++);
    try {
      await settle();
      const before = calls;
      other.write();
      await settle();
      expect(calls).toBe(before);
    } finally {
      stop();
      db.close();
      other.close();
    }
  });

  it("a directory that cannot be watched leaves polling alone, without an error", () => {
    const stop = watchWal(join(dir, "missing", "d.db"), () => {});
    expect(() => stop()).not.toThrow();
  });

  it("calls no listener another one unsubscribed meanwhile; one that throws gets its error, the others are called", async () => {
    const db = database("e.db");
    const calls: string[] = [];
    const errors: unknown[] = [];
    let stopSecond = () => {};
    const stopFirst = watchWal(
      db.path,
      () => {
        calls.push("first");
        stopSecond();
        throw new Error("first failed");
      },
      (error) => errors.push(error),
    );
    const stopThird = watchWal(db.path, () => calls.push("third"));
    stopSecond = watchWal(db.path, () => calls.push("second"));
    try {
      await settle();
      calls.length = 0;
      errors.length = 0;
      db.write();
      await vi.waitFor(() => expect(calls).toContain("third"), { timeout: 2000 });
      await settle();
      expect(calls).not.toContain("second");
      expect(calls.filter((c) => c === "first").length).toBe(calls.filter((c) => c === "third").length);
      expect(errors.length).toBe(calls.filter((c) => c === "first").length);
      expect(errors[0]).toMatchObject({ message: "first failed" });
    } finally {
      stopFirst();
      stopSecond();
      stopThird();
      db.close();
    }
  });

  it("a database opened through a symbolic link is its target's: the WAL file watched is the one written", async () => {
    const db = database("f.db");
    const links = join(dir, "links");
    mkdirSync(links);
    symlinkSync(db.path, join(links, "f.db"));
    const driver = new SqliteDriver(join(links, "f.db"));
    try {
      expect(driver.database).toBe(realpathSync(db.path));
      let calls = 0;
      const stop = driver.subscribe(
        "",
        () => calls++,
        () => {},
      );
      db.write();
      await vi.waitFor(() => expect(calls).toBeGreaterThan(0), { timeout: 2000 });
      stop();
    } finally {
      await driver.close();
      db.close();
    }
  });
});
