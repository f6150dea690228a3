import { type Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from "kysely";
import { BaseSqlDialect, type ColumnTypes } from "../../dialect.js";

/** SQLite's capabilities: in-process, so one prepared statement per row beats building multi-row INSERTs. */
export class SqliteDialect extends BaseSqlDialect {
  readonly name = "sqlite";
  readonly types: ColumnTypes = { bigint: "integer", integer: "integer", kind: "text", id: "text", json: "text" };
  // SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766.
  override readonly maxParameters = 32_766;
  override readonly singleRowInserts = true;
  // Zeroes deleted keys in the pages (and so in the WAL frames the delete writes); it stays on for the connection.
  override readonly secureDeleteStatements = ["PRAGMA secure_delete = ON"];
  override readonly identityIndex = true;
  createAdapter() {
    return new SqliteAdapter();
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db);
  }
}
