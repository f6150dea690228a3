import pg from "pg";
import type { RawClient } from "./raw-client.js";

/** One pg connection; BIGINT keys come back as text and are converted where used. */
export class PostgresRaw implements RawClient {
  readonly #client: pg.Client;
  readonly types = { key: "BIGSERIAL PRIMARY KEY", kind: "TEXT", text: "TEXT", bigint: "BIGINT" };
  readonly begin = "BEGIN";

  lockedBegin(table: string): string[] {
    return ["BEGIN", `SELECT pg_advisory_xact_lock(hashtext('${table}'))`];
  }

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async connect(url: string): Promise<PostgresRaw> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresRaw(client);
  }

  async run(sql: string, parameters: readonly unknown[] = []): Promise<void> {
    await this.#client.query(sql, parameters as unknown[]);
  }

  async all<R>(sql: string, parameters: readonly unknown[] = []): Promise<R[]> {
    return (await this.#client.query(sql, parameters as unknown[])).rows as R[];
  }

  param(n: number): string {
    return `$${n}`;
  }

  async settle(): Promise<void> {
    await this.run("CHECKPOINT");
  }

  async version(): Promise<string> {
    return `PostgreSQL ${(await this.all<{ v: string }>("SELECT current_setting('server_version') AS v"))[0]?.v ?? "?"}`;
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
