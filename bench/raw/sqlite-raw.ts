import Database from "better-sqlite3";
import type { RawClient } from "./raw-client.js";

/** better-sqlite3 with the store's durability: WAL, `synchronous=FULL`; statements prepared once. */
export class SqliteRaw implements RawClient {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly types = { key: "INTEGER PRIMARY KEY", kind: "TEXT", text: "TEXT", bigint: "INTEGER" };
  readonly begin = "BEGIN";

  lockedBegin(): string[] {
    return ["BEGIN IMMEDIATE"];
  }

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 10_000 });
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
  }

  #prepare(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  async run(sql: string, parameters: readonly unknown[] = []): Promise<void> {
    if (parameters.length === 0 && !sql.startsWith("SELECT")) this.#db.exec(sql);
    else this.#prepare(sql).run(...parameters);
  }

  async all<R>(sql: string, parameters: readonly unknown[] = []): Promise<R[]> {
    return this.#prepare(sql).all(...parameters) as R[];
  }

  param(): string {
    return "?";
  }

  async version(): Promise<string> {
    return `SQLite ${(this.#db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v}`;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
