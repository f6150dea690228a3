import { type Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import { BaseSqlDialect, type ColumnTypes, type Statement } from "../../dialect.js";

/**
 * PostgreSQL's capabilities. Text compares byte for byte under any deterministic
 * collation, so kinds and ids are plain `text`; patches are `text` too, not
 * `jsonb`, which would reorder keys and drop duplicates.
 */
export class PostgresDialect extends BaseSqlDialect {
  readonly name = "postgres";
  readonly types: ColumnTypes = { bigint: "bigint", integer: "integer", kind: "text", id: "text", json: "text" };
  // The wire protocol counts parameters in 16 bits.
  override readonly maxParameters = 65_535;
  override readonly insertsWithCtes = true;
  /**
   * The payload is the writer's schema: listeners of other schemas ignore it.
   * Without parameters (the channel is a quoted literal), so the driver can
   * send it in the commit's round trip.
   */
  notifyStatement(channel: string): Statement {
    return { sql: `select pg_notify('${channel.replaceAll("'", "''")}', current_schema())`, parameters: [] };
  }
  createAdapter() {
    return new PostgresAdapter();
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}
