import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ConnectionError, openStore } from "../src/index.js";
import { sqliteFactory } from "./stores.js";
import { act, collect } from "./support/events.js";

const factory = sqliteFactory();
afterAll(() => factory.dispose());

/** The names of the indexes on the actions relation, read on a connection of its own. */
function actionIndexes(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'actions' AND sql IS NOT NULL")
      .all() as { name: string }[];
    return rows.map((r) => r.name).sort();
  } finally {
    db.close();
  }
}

describe("SQLite schema: the aggregate index holds the identity", () => {
  it("initSchema makes actions(aggregate_id, aggregate_kind, seq_no) and drops the hash index of earlier releases", async () => {
    const store = await factory.create();
    const path = (factory.lastUrl as string).replace(/^sqlite:/, "");
    const r = await store.rebase(1, [act(["order", 41], { assoc: { n: 1 } }), act(["order", 42], { assoc: { n: 2 } })]);
    expect(r.result).toBe("ok");
    await store.close();
    expect(actionIndexes(path)).toEqual(["actions_identity"]);

    // A database as an earlier release left it: the hash index and no identity index.
    const db = new Database(path);
    db.exec("DROP INDEX actions_identity; CREATE INDEX actions_aggregate ON actions (aggregate_hash, seq_no)");
    db.close();
    expect(actionIndexes(path)).toEqual(["actions_aggregate"]);

    const reopened = openStore(`sqlite:${path}`);
    try {
      await reopened.initSchema();
      expect(actionIndexes(path)).toEqual(["actions_identity"]);
      expect(await reopened.aggregate(["order", 42])).toEqual({ state: { n: 2 }, seqNo: 2 });
      expect((await collect(reopened.stream({ aggregates: [["order", 41]] }))).map((a) => a.seqNo)).toEqual([1]);
      const conflict = await reopened.rebase(1, [act(["order", 41], { assoc: { n: 3 } })]);
      expect(conflict.result).toBe("conflict");
    } finally {
      await reopened.close();
    }
  });
});

describe("SQLite: a file that cannot be opened", () => {
  it("a missing directory is a ConnectionError, as a file SQLite cannot open is", () => {
    for (const url of ["sqlite:/nonexistent-coherence-dir/x.db", "sqlite:/dev/null/x.db"]) {
      expect(() => openStore(url)).toThrow(ConnectionError);
    }
  });
});
