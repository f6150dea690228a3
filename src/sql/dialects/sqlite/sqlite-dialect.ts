import { type CompiledQuery, type Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from "kysely";
import type { TableNames } from "../../../model/types.js";
import { BaseSqlDialect, type Column, type ColumnTypes, EVENT_COLUMNS } from "../../dialect.js";
import { columnsOf } from "../../queries/append.js";
import { indexName } from "../../tables.js";

/** A relation's, column's or index's name, quoted. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

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
  override readonly identityInSql = true;
  columnsQuery(db: Kysely<unknown>, relation: string): CompiledQuery<Column> {
    return sql<Column>`select name as name, case when "notnull" = 0 then 'YES' else 'NO' end as nullable from pragma_table_info(${relation})`.compile(
      db,
    );
  }
  /**
   * SQLite adds no NOT NULL column without a default, so the action relation
   * is made anew: the old one is renamed and loses its indexes, `initSchema`
   * creates the new one and its indexes, and the rows are copied across with
   * their events' columns (a row without its event fails NOT NULL), all in the
   * migration's one transaction. This also leaves behind the unchecked foreign
   * key clause of the earliest releases' action relation.
   */
  eventColumnsUpgrade(tables: TableNames, columns: readonly Column[]): { before: string[]; after: string[] } {
    if (EVENT_COLUMNS.every((c) => columns.some((k) => k.name === c && k.nullable === "NO"))) {
      return { before: [], after: [] };
    }
    const [a, e, old] = [quoted(tables.action), quoted(tables.event), quoted(`${tables.action}_v1`)];
    const copied = columnsOf("actions").filter((c) => !(EVENT_COLUMNS as readonly string[]).includes(c));
    const list = [...copied, ...EVENT_COLUMNS].map(quoted).join(", ");
    const from = [...copied.map((c) => `a.${quoted(c)}`), ...EVENT_COLUMNS.map((c) => `e.${quoted(c)}`)].join(", ");
    return {
      before: [
        // Legacy mode leaves the references of other relations to the action relation as they are.
        "pragma legacy_alter_table = on",
        `alter table ${a} rename to ${old}`,
        "pragma legacy_alter_table = off",
        ...["identity", "aggregate"].map((i) => `drop index if exists ${quoted(indexName(tables.action, i))}`),
      ],
      after: [
        `insert into ${a} (${list}) select ${from} from ${old} as a left join ${e} as e on e."seq_no" = a."seq_no" order by a."seq_no"`,
        `drop table ${old}`,
      ],
    };
  }
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
