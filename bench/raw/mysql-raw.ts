import mysql from "mysql2/promise";
import type { RawClient } from "./raw-client.js";

/** One mysql2 connection; statements are prepared and cached by mysql2's `execute`. */
export class MysqlRaw implements RawClient {
  readonly #conn: mysql.Connection;
  readonly types = {
    key: "BIGINT AUTO_INCREMENT PRIMARY KEY",
    kind: "VARCHAR(200)",
    text: "LONGTEXT",
    bigint: "BIGINT",
  };
  readonly begin = "BEGIN";

  lockedBegin(table: string): string[] {
    return ["BEGIN", `SELECT k FROM ${table}_lock WHERE k = 1 FOR UPDATE`];
  }

  private constructor(conn: mysql.Connection) {
    this.#conn = conn;
  }

  static async connect(url: string): Promise<MysqlRaw> {
    return new MysqlRaw(await mysql.createConnection({ uri: url.replace(/^mariadb:/, "mysql:") }));
  }

  async run(sql: string, parameters: readonly unknown[] = []): Promise<void> {
    if (parameters.length === 0) await this.#conn.query(sql);
    else await this.#conn.execute(sql, parameters as never);
  }

  async all<R>(sql: string, parameters: readonly unknown[] = []): Promise<R[]> {
    const [rows] = await this.#conn.execute(sql, parameters as never);
    return rows as R[];
  }

  param(): string {
    return "?";
  }

  async version(): Promise<string> {
    return (await this.all<{ v: string }>("SELECT version() AS v"))[0]?.v?.replace(/-0\+deb.*$/, "") ?? "?";
  }

  async close(): Promise<void> {
    await this.#conn.end();
  }
}
