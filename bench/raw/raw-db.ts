import type { RawRow } from "../events.js";
import type { RawClient } from "./raw-client.js";

const COLUMNS = "timestamp, source, reason, actor_kind, actor_id, aggregate_kind, aggregate_id, patch";
const WIDTH = 8;

/** A row read back by the baseline's stream, its patch parsed as a consumer would. */
export interface RawReadRow {
  seq_no: number | string;
  patch: string;
}

/**
 * The raw-SQL baseline: a plain table of the same values (one row per action,
 * a database-assigned key, an index on the aggregate), written in plain
 * transactions of INSERTs (multi-row for batches) and read in keyset pages.
 */
export class RawDb {
  readonly #inserts = new Map<number, string>();

  constructor(
    readonly client: RawClient,
    readonly table: string,
  ) {}

  async create(): Promise<void> {
    const { key, kind, text, bigint } = this.client.types;
    await this.client.run(
      `CREATE TABLE ${this.table} (seq_no ${key}, timestamp ${bigint} NOT NULL, source ${kind} NOT NULL, reason ${kind} NOT NULL, actor_kind ${kind} NOT NULL, actor_id ${kind} NOT NULL, aggregate_kind ${kind} NOT NULL, aggregate_id ${kind} NOT NULL, patch ${text} NOT NULL)`,
    );
    await this.client.run(
      `CREATE INDEX ${this.table}_aggregate ON ${this.table} (aggregate_kind, aggregate_id, seq_no)`,
    );
    // The row MySQL's serialized writers lock (the others lock without a table).
    await this.client.run(`CREATE TABLE ${this.table}_lock (k ${this.client.types.bigint} PRIMARY KEY)`);
    await this.client.run(`INSERT INTO ${this.table}_lock (k) VALUES (1)`);
  }

  /**
   * One row in a transaction that holds the table's write lock and numbers the
   * row itself (the highest key + 1): gapless, commit-ordered keys, the
   * guarantee a store's seqNos give, in plain SQL.
   */
  async insertSerialized(row: RawRow): Promise<void> {
    const p = (n: number) => this.client.param(n);
    for (const statement of this.client.lockedBegin(this.table)) await this.client.run(statement);
    try {
      const [next] = await this.client.all<{ next: number | string }>(
        `SELECT COALESCE(MAX(seq_no), 0) + 1 AS next FROM ${this.table}`,
      );
      const values = Array.from({ length: WIDTH + 1 }, (_, i) => p(i + 1)).join(", ");
      await this.client.run(`INSERT INTO ${this.table} (seq_no, ${COLUMNS}) VALUES (${values})`, [
        Number(next?.next),
        ...row,
      ]);
      await this.client.run("COMMIT");
    } catch (error) {
      await this.client.run("ROLLBACK");
      throw error;
    }
  }

  #insertSql(count: number): string {
    let sql = this.#inserts.get(count);
    if (sql === undefined) {
      const rows: string[] = [];
      for (let r = 0; r < count; r++) {
        const p: string[] = [];
        for (let c = 1; c <= WIDTH; c++) p.push(this.client.param(r * WIDTH + c));
        rows.push(`(${p.join(", ")})`);
      }
      sql = `INSERT INTO ${this.table} (${COLUMNS}) VALUES ${rows.join(", ")}`;
      this.#inserts.set(count, sql);
    }
    return sql;
  }

  /** One transaction inserting `rows` (in multi-row INSERTs of at most 1,000 rows). */
  async insert(rows: readonly RawRow[]): Promise<void> {
    await this.client.run(this.client.begin);
    try {
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await this.client.run(this.#insertSql(chunk.length), chunk.flat());
      }
      await this.client.run("COMMIT");
    } catch (error) {
      await this.client.run("ROLLBACK");
      throw error;
    }
  }

  /** Reads every row in seq_no order, in keyset pages of `pageSize`, parsing each patch; returns the count. */
  async stream(pageSize: number): Promise<number> {
    const sql = `SELECT seq_no, ${COLUMNS} FROM ${this.table} WHERE seq_no > ${this.client.param(1)} ORDER BY seq_no LIMIT ${pageSize}`;
    let after = 0;
    let count = 0;
    for (;;) {
      const rows = await this.client.all<RawReadRow>(sql, [after]);
      for (const row of rows) {
        JSON.parse(row.patch);
        count++;
      }
      if (rows.length < pageSize) return count;
      after = Number(rows[rows.length - 1]?.seq_no);
    }
  }

  /** The patches of one aggregate, in order, parsed. */
  async patches(kind: string, id: string): Promise<unknown[]> {
    const p = (n: number) => this.client.param(n);
    const rows = await this.client.all<{ patch: string }>(
      `SELECT patch FROM ${this.table} WHERE aggregate_kind = ${p(1)} AND aggregate_id = ${p(2)} ORDER BY seq_no`,
      [kind, id],
    );
    return rows.map((r) => JSON.parse(r.patch));
  }

  async drop(): Promise<void> {
    await this.client.run(`DROP TABLE IF EXISTS ${this.table}`);
    await this.client.run(`DROP TABLE IF EXISTS ${this.table}_lock`);
  }
}
