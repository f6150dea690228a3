import {
  type CompiledQuery,
  type Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  type RawBuilder,
  sql,
} from "kysely";
import type { TableNames } from "../../../model/types.js";
import {
  alterEventColumns,
  BaseSqlDialect,
  type Column,
  type ColumnTypes,
  type ForeignKey,
  type HeadlessAppend,
  STORED_THEIRS,
  type StoredAppend,
  storedAppendName,
} from "../../dialect.js";
import { foreignKeysIn } from "../../queries/create-schema.js";
import { META } from "../../queries/meta.js";
import { derivedName } from "../../tables.js";

/**
 * MariaDB's binary collation of utf8mb4 without PAD SPACE: strings compare
 * code point by code point, so `'a'` and `'a '` differ, and no collation folds
 * case or accents. On MySQL 8 the driver's migration names MySQL's
 * (`utf8mb4_0900_bin`) instead; see {@link forMysql}.
 */
export const NOPAD_BIN = "utf8mb4_nopad_bin";
const MYSQL_NOPAD_BIN = "utf8mb4_0900_bin";

/** A statement's SQL for MySQL 8, which knows MariaDB's collation under another name. */
export function forMysql(text: string): string {
  return text.replaceAll(NOPAD_BIN, MYSQL_NOPAD_BIN);
}

/**
 * Values are escaped into a statement's text, which must fit in
 * max_allowed_packet (16 MiB on MariaDB): 4 Mi UTF-16 units are at most
 * 12 MiB of UTF-8, and escaping at most doubles only 1-byte characters.
 */
export const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

/** What {@link textOf} puts before a column: a comment, so the server reads the column as it is. */
const TEXT_MARK = "/*text*/ ";

/**
 * A string column as the stream's pages select it: as it is (utf8mb4 text),
 * marked so that {@link asBytes} can read its bytes instead where a
 * connection answers in another character set.
 */
export function textOf(ref: string): RawBuilder<string> {
  return sql<string>`${sql.raw(TEXT_MARK)}${sql.ref(ref)}`;
}

/**
 * A statement's SQL with the columns {@link textOf} marked read as their bytes
 * (`cast(… as binary)`), which the driver decodes as UTF-8: what was stored,
 * whatever the connection's character set.
 */
export function asBytes(text: string): string {
  return text.replace(/\/\*text\*\/ (`[^`]+`\.`[^`]+`)/g, "cast($1 as binary)");
}

/**
 * The string types of each kind of column, and the types of the binary
 * columns the first release made (before its string columns were text):
 * `initSchema` converts those.
 */
const TEXT_TYPES = {
  kind: `varchar(600) character set utf8mb4 collate ${NOPAD_BIN}`,
  long: `longtext character set utf8mb4 collate ${NOPAD_BIN}`,
} as const;
const BINARY_TYPES: Record<string, string> = { varbinary: TEXT_TYPES.kind, longblob: TEXT_TYPES.long };

/** A relation's or column's name, quoted; only names of the store's own schema get here. */
function quoted(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new Error(`not a checked name: ${name}`);
  return `\`${name}\``;
}

/** A column left binary by an earlier release, as `legacyColumnsQuery` finds it. */
export interface BinaryColumn {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: string;
}

/** The session variable that keeps the head for a {@link HeadlessAppend}. */
const HEAD = "@coherence_head";

/**
 * {@link HeadlessAppend} on MySQL/MariaDB. The guard fails with a subquery in
 * its select list that returns two rows when the condition holds
 * (`ER_SUBQUERY_NO_1_ROW`, errno 1242), which no other statement of a rebase
 * can raise.
 */
const HEADLESS: HeadlessAppend = {
  keepHead: (head) => ({ sql: `select coalesce((${head.sql}), 0) into ${HEAD}`, parameters: head.parameters }),
  guard: (base, conflicts) => {
    const condition = conflicts ? `? > ${HEAD} + 1 or (${conflicts.sql})` : `? > ${HEAD} + 1`;
    return {
      sql: `select ${HEAD} as head, (select 1 from dual where ${condition} union all select 1) as guard`,
      parameters: [base, ...(conflicts?.parameters ?? [])],
    };
  },
  keptHeadSql: HEAD,
  failure: "ER_SUBQUERY_NO_1_ROW",
};

/** The errno of a string function's result longer than `max_allowed_packet` (an error in a strict routine). */
const ER_WARN_ALLOWED_PACKET_OVERFLOWED = 1301;

/** The text of {@link STORED_APPEND}'s report of a missing write-lock row (see `MysqlDriver.call`). */
export const NO_WRITE_LOCK = "coherence-store: the write-lock row is missing";
/** The errno of a SIGNAL of SQLSTATE '45000' without its own MYSQL_ERRNO. */
export const ER_SIGNAL_EXCEPTION = 1644;

/**
 * {@link StoredAppend} on MySQL/MariaDB: a procedure with the caller's
 * rights (`sql security invoker`) that runs what `MysqlDriver.write` and the
 * {@link HEADLESS} statements run, in one READ COMMITTED transaction, and
 * rolls back on any error before passing it on, so that no call leaves the
 * write lock held. It is created under a sql_mode of its own
 * ({@link StoredAppend.sqlMode}), which it keeps. The name carries a
 * version: a later body is another routine.
 */
const STORED_APPEND: StoredAppend = {
  name: storedAppendName,
  create: (tables, name) => {
    const [events, actions, effects, meta] = [
      quoted(tables.event),
      quoted(tables.action),
      quoted(tables.effect),
      quoted(derivedName(tables, "meta")),
    ];
    const text = `longtext character set utf8mb4 collate ${NOPAD_BIN}`;
    return `create procedure ${quoted(name)}(in base bigint, in hash bigint, in stamp bigint, in src ${text}, in why ${text}, in actor_kind ${text}, in actor_id ${text}, in aggregate_kind ${text}, in aggregate_id ${text}, in patch ${text})
modifies sql data sql security invoker
begin
  declare head bigint;
  declare theirs longblob default null;
  declare locked bigint default null;
  declare exit handler for sqlexception begin rollback; resignal; end;
  set transaction isolation level read committed;
  start transaction;
  select \`value\` into locked from ${meta} where \`name\` = '${META.writeLock}' for update;
  if locked is null then
    signal sqlstate '45000' set message_text = '${NO_WRITE_LOCK}';
  end if;
  select coalesce(max(\`seq_no\`), 0) into head from ${events};
  if base > head + 1
    or exists (select 1 from ${actions} where \`aggregate_hash\` = hash and \`seq_no\` >= base)
    or (select max(\`seq_no\`) from ${effects}) >= base then
    -- Theirs, where the rules meet no effect: the first action of the aggregate since the base.
    if base <= head + 1 and (select coalesce(max(\`seq_no\`), 0) from ${effects}) < base then begin
      -- Its JSON longer than max_allowed_packet (ER_WARN_ALLOWED_PACKET_OVERFLOWED): none, the full rules read it.
      declare continue handler for ${ER_WARN_ALLOWED_PACKET_OVERFLOWED} set theirs = null;
      set theirs = (select cast(json_array(${STORED_THEIRS.map((c) => `a.${quoted(c)}`).join(", ")}) as binary)
        from ${actions} as a
        where a.\`aggregate_hash\` = hash and a.\`seq_no\` >= base and a.\`seq_no\` <= head
          and a.\`aggregate_kind\` = aggregate_kind and a.\`aggregate_id\` = aggregate_id
        order by a.\`seq_no\` limit 1);
    end; end if;
    rollback;
    select head as head, 1 as refused, theirs as theirs;
  else
    insert into ${events} (\`seq_no\`, \`timestamp\`, \`source\`) values (head + 1, stamp, src);
    insert into ${actions} (\`seq_no\`, \`reason\`, \`actor_kind\`, \`actor_id\`, \`aggregate_kind\`, \`aggregate_id\`, \`aggregate_hash\`, \`patch\`, \`triggers\`, \`timestamp\`, \`source\`)
      values (head + 1, why, actor_kind, actor_id, aggregate_kind, aggregate_id, hash, patch, null, stamp, src);
    commit;
    select head as head, 0 as refused;
  end if;
end`;
  },
  call: (name) => `call ${quoted(name)}(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  sqlMode: {
    // Strict, and nothing that changes the syntax (ORACLE, ANSI_QUOTES) or the routine's arithmetic.
    set: "set @coherence_sql_mode = @@session.sql_mode, session sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    restore: "set session sql_mode = @coherence_sql_mode, @coherence_sql_mode = null",
  },
  unavailable: new Set([
    // No such routine; another routine of that name; EXECUTE not granted; its definer dropped.
    "ER_SP_DOES_NOT_EXIST",
    "ER_SP_WRONG_NO_OF_ARGS",
    "ER_PROCACCESS_DENIED_ERROR",
    "ER_NO_SUCH_USER",
  ]),
};

export class MysqlDialect extends BaseSqlDialect {
  readonly name = "mysql";
  /**
   * Every string is utf8mb4 text in {@link NOPAD_BIN}. A kind holds at most
   * 200 UTF-16 code units; the column takes 600 characters, as the binary
   * column before it took 600 bytes.
   */
  readonly types: ColumnTypes = {
    bigint: "bigint",
    integer: "int",
    kind: TEXT_TYPES.kind,
    id: TEXT_TYPES.long,
    json: TEXT_TYPES.long,
  };
  // The protocol counts a prepared statement's parameters in 16 bits.
  override readonly maxParameters = 65_535;
  override readonly maxStatementBytes = MAX_STATEMENT_BYTES;
  // MySQL 8 has none (MariaDB has); the driver's migration accepts an index that already exists.
  override readonly supportsCreateIndexIfNotExists = false;
  readonly textOf = textOf;
  override readonly readsAhead = true;
  // No LISTEN/NOTIFY and no file to watch: polling is how followers learn of other processes' commits, so
  // the first commit after a quiet spell is found within 100 ms instead of 500 (an idle follower then reads
  // the head 10 times a second: one primary-key lookup each).
  readonly pollCeilingMs = 100;
  readonly headless = HEADLESS;
  readonly storedAppend = STORED_APPEND;
  override readonly conflictGuard = "coarse" as const;
  /** The string columns of `relations` an earlier release made binary. */
  legacyColumnsQuery(db: Kysely<unknown>, relations: readonly string[]): CompiledQuery<BinaryColumn> {
    return sql<BinaryColumn>`select table_name as table_name, column_name as column_name, data_type as data_type, is_nullable as is_nullable from information_schema.columns where table_schema = database() and table_name in (${sql.join(relations)}) and data_type in ('varbinary', 'longblob') order by table_name, ordinal_position`.compile(
      db,
    );
  }

  /** One `alter table` per relation that converts its binary string columns to text (the bytes are the UTF-8 written). */
  upgradeStatements(rows: readonly unknown[]): string[] {
    const byTable = new Map<string, string[]>();
    for (const c of rows as BinaryColumn[]) {
      const type = BINARY_TYPES[c.data_type.toLowerCase()];
      if (type === undefined) continue;
      const change = `modify ${quoted(c.column_name)} ${type}${c.is_nullable === "YES" ? "" : " not null"}`;
      byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), change]);
    }
    return [...byTable].map(([table, changes]) => `alter table ${quoted(table)} ${changes.join(", ")}`);
  }

  foreignKeysQuery(db: Kysely<unknown>, keys: readonly (readonly [string, string])[]): CompiledQuery<ForeignKey> {
    return foreignKeysIn(db, "database()", "char", keys);
  }
  dropForeignKey(key: ForeignKey): string {
    return `alter table ${quoted(key.table_name)} drop foreign key ${quoted(key.constraint_name)}`;
  }
  columnsQuery(db: Kysely<unknown>, relation: string): CompiledQuery<Column> {
    return sql<Column>`select cast(column_name as char) as name, cast(is_nullable as char) as nullable from information_schema.columns where table_schema = database() and table_name = ${relation}`.compile(
      db,
    );
  }
  /** MySQL 8 has no `add column if not exists`: only the missing columns are added. */
  eventColumnsUpgrade(tables: TableNames, columns: readonly Column[]): { before: string[]; after: string[] } {
    const [a, e] = [quoted(tables.action), quoted(tables.event)];
    const type = (c: string) => (c === "timestamp" ? this.types.bigint : this.types.kind);
    const after = alterEventColumns(columns, {
      alter: `alter table ${a}`,
      add: (c) => `add column ${quoted(c)} ${type(c)}`,
      fill: `update ${a} as a join ${e} as e on e.\`seq_no\` = a.\`seq_no\` set a.\`timestamp\` = e.\`timestamp\`, a.\`source\` = e.\`source\` where a.\`timestamp\` is null or a.\`source\` is null`,
      notNull: (c) => `modify ${quoted(c)} ${type(c)} not null`,
    });
    return { before: [], after };
  }
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
