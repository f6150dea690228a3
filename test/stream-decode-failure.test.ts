import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { NewEvent } from "../src/index.js";
import { sqliteFactory } from "./stores.js";
import { act } from "./support/events.js";

const factory = sqliteFactory();
afterAll(() => factory.dispose());

describe("a stored row that fails to decode, in the middle of a page", () => {
  it("the actions before it are delivered, in order, then its error is thrown; none after it", async () => {
    const store = await factory.create();
    const history: NewEvent[] = Array.from({ length: 300 }, (_, i) => act(["n", i % 7], { assoc: { i } }));
    expect((await store.rebase(1, history)).result).toBe("ok");
    // A patch that is no JSON (a row written by hand, a damaged file): seqNo 200 of one page.
    const path = (factory.lastUrl as string).slice("sqlite:".length);
    const db = new Database(path);
    db.prepare("UPDATE actions SET patch = '{' WHERE seq_no = 200").run();
    db.close();
    const seen: number[] = [];
    let failure: unknown;
    try {
      for await (const e of store.stream()) seen.push(e.seqNo);
    } catch (error) {
      failure = error;
    }
    expect(seen).toEqual(Array.from({ length: 199 }, (_, i) => i + 1));
    expect(failure).toBeInstanceOf(Error);
  });
});
