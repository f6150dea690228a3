/** The slice of a database connection the raw-SQL baseline uses. */
export interface RawClient {
  /** Runs a statement (parameters bound where the SQL has placeholders). */
  run(sql: string, parameters?: readonly unknown[]): Promise<void>;
  all<R>(sql: string, parameters?: readonly unknown[]): Promise<R[]>;
  /** The placeholder of the n-th parameter (1-based). */
  param(n: number): string;
  /** Column types of the raw table. */
  readonly types: { readonly key: string; readonly kind: string; readonly text: string; readonly bigint: string };
  /** `BEGIN` as this database spells a plain write transaction. */
  readonly begin: string;
  /**
   * Statements that open a write transaction holding one write lock of `table`
   * for every process, as a writer of gapless, commit-ordered keys needs.
   */
  lockedBegin(table: string): string[];
  /**
   * Optional: flushes what a bulk load left dirty (PostgreSQL's CHECKPOINT),
   * so that commits measured next do not wait behind that flush.
   */
  settle?(): Promise<void>;
  version(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A raw connection to a bench target's database, for the baseline. Each
 * database's package is imported only here, when asked for: a bench child
 * (whose peak RSS is a figure) loads its own database's driver and no other,
 * as the store loads its drivers.
 */
export async function rawClient(url: string): Promise<RawClient> {
  if (url.startsWith("sqlite:")) {
    const { SqliteRaw } = await import("./sqlite-raw.js");
    return new SqliteRaw(url.slice("sqlite:".length));
  }
  if (url.startsWith("postgres")) return (await import("./postgres-raw.js")).PostgresRaw.connect(url);
  return (await import("./mysql-raw.js")).MysqlRaw.connect(url);
}
