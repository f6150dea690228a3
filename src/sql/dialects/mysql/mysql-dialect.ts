import { type Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler, type RawBuilder, sql } from "kysely";
import { BaseSqlDialect, type ColumnTypes } from "../../dialect.js";

/**
 * MySQL 8 and MariaDB 10.6+. Every string is a binary column (compared byte
 * for byte, no PAD SPACE: `'a'` and `'a '` differ, and no collation folds case
 * or accents); the driver turns the bytes back into strings. A kind holds at
 * most 200 UTF-16 code units, so at most 600 bytes of UTF-8.
 */
/**
 * Values are escaped into a statement's text, which must fit in
 * max_allowed_packet (16 MiB on MariaDB): 4 Mi UTF-16 units are at most
 * 12 MiB of UTF-8, and escaping at most doubles only 1-byte characters.
 */
export const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

/**
 * A binary column's bytes as utf8mb4 text: the driver reads the string
 * without decoding each value itself (see the driver's `values`).
 */
export function textOf(ref: string): RawBuilder<string> {
  return sql<string>`cast(${sql.ref(ref)} as char character set utf8mb4)`;
}

/** A statement's SQL with the casts of {@link textOf} taken out: its columns read as the bytes they hold. */
export function withoutTextCasts(text: string): string {
  return text.replace(/cast\((`[^`]+`\.`[^`]+`) as char character set utf8mb4\)/g, "$1");
}

export class MysqlDialect extends BaseSqlDialect {
  readonly name = "mysql";
  readonly types: ColumnTypes = {
    bigint: "bigint",
    integer: "int",
    kind: "varbinary(600)",
    id: "longblob",
    json: "longblob",
  };
  // The protocol counts a prepared statement's parameters in 16 bits.
  override readonly maxParameters = 65_535;
  override readonly maxStatementBytes = MAX_STATEMENT_BYTES;
  // MySQL 8 has none (MariaDB has); the driver's migration accepts an index that already exists.
  override readonly supportsCreateIndexIfNotExists = false;
  readonly textOf = textOf;
  override readonly rangeReadsApart = true;
  createAdapter() {
    return new MysqlAdapter();
  }
  createQueryCompiler() {
    return new MysqlQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new MysqlIntrospector(db);
  }
}
