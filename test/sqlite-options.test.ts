import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EventStore } from "../src/event-store.js";
import { openStore, ValidationError } from "../src/index.js";
import type { SqlBackend } from "../src/sql/sql-backend.js";
import { act } from "./support/events.js";

const dir = mkdtempSync(join(tmpdir(), "coherence-sqlite-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sqlite: options.sqlite is checked before the file is opened", () => {
  const bad: [string, unknown, string, string][] = [
    ["an unknown mode", { synchronous: "bogus" }, "invalid-type", "options.sqlite.synchronous"],
    ["OFF, which loses commits on a crash", { synchronous: "OFF" }, "invalid-type", "options.sqlite.synchronous"],
    ["a mode that is no mode", { synchronous: "normalish" }, "invalid-type", "options.sqlite.synchronous"],
    ["a number for the mode", { synchronous: 1 }, "invalid-type", "options.sqlite.synchronous"],
    ["a negative timeout", { busyTimeout: -1 }, "invalid-number", "options.sqlite.busyTimeout"],
    ["a fractional timeout", { busyTimeout: 1.5 }, "invalid-number", "options.sqlite.busyTimeout"],
    ["a timeout as text", { busyTimeout: "100" }, "invalid-number", "options.sqlite.busyTimeout"],
    ["a timeout past 32 bits", { busyTimeout: 2 ** 31 }, "invalid-number", "options.sqlite.busyTimeout"],
    ["an unknown key", { timeout: 5 }, "unknown-key", "options.sqlite.timeout"],
  ];
  for (const [name, sqlite, code, path] of bad) {
    it(`${name}: ValidationError ${code} at ${path}, and no file is made`, () => {
      const file = join(dir, `${code}-${name.replaceAll(" ", "-")}.db`);
      let thrown: unknown;
      try {
        openStore(`sqlite:${file}`, { sqlite: sqlite as never });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect(thrown).toMatchObject({ code, path });
      expect(existsSync(file)).toBe(false);
    });
  }

  it("a ? in a path: a query string for a new file (refused), part of the name of one that exists (it opens)", async () => {
    const file = join(dir, "q.db?mode=ro");
    expect(() => openStore(`sqlite:${file}`)).toThrow(expect.objectContaining({ code: "invalid-url", path: "url" }));
    expect(existsSync(file)).toBe(false);
    // A store made where the name was taken as it is.
    writeFileSync(file, "");
    const store = openStore(`sqlite:${file}`);
    await store.initSchema();
    expect((await store.rebase(1, [act(["b", 1])])).result).toBe("ok");
    await store.close();
  });

  it("the modes and timeouts it accepts apply", async () => {
    for (const [synchronous, level] of [
      ["NORMAL", 1],
      ["FULL", 2],
      ["EXTRA", 3],
      ["normal", 1],
    ] as const) {
      const file = join(dir, `${synchronous}.db`);
      // -0 is read as 0, as in every argument (openStore reads its options into a copy).
      const store = openStore(`sqlite:${file}`, {
        sqlite: { synchronous, busyTimeout: synchronous === "FULL" ? -0 : 0 },
      });
      await store.initSchema();
      // The store's own connection: what a second connection reports is its own default.
      const { driver } = (store as EventStore).backend as SqlBackend;
      const rows = await driver.read((s) => s.all({ sql: "PRAGMA synchronous", parameters: [] }));
      expect(rows).toEqual([{ synchronous: level }]);
      await store.close();
    }
  });
});
