import {
  type CompiledQuery,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
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
  type Statement,
  type StoredAppend,
  storedAppendName,
} from "../../dialect.js";
import { foreignKeysIn } from "../../queries/create-schema.js";
import { derivedName } from "../../tables.js";
import { packages } from "../packages.js";

/** A relation's or column's name, quoted. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The transaction's setting that keeps the head for a {@link HeadlessAppend} (reset at its end). */
const HEAD = "pg_catalog.current_setting('coherence.head')::bigint";

/**
 * {@link HeadlessAppend} on PostgreSQL: the statements travel in the write
 * transaction's pipeline. The guard fails with a scalar subquery that returns
 * two rows when the condition holds (SQLSTATE 21000, cardinality_violation),
 * which no other statement of a rebase can raise; CASE evaluates it only then.
 * The base is the last parameter, after the conflict query's.
 */
const HEADLESS: HeadlessAppend = {
  keepHead: (head) => ({
    sql: `select pg_catalog.set_config('coherence.head', coalesce((${head.sql}), 0)::text, true)`,
    parameters: head.parameters,
  }),
  guard: (base, conflicts) => {
    const parameters = [...(conflicts?.parameters ?? []), base];
    const past = `$${parameters.length}::bigint > ${HEAD} + 1`;
    const condition = conflicts ? `${past} or (${conflicts.sql})` : past;
    return {
      sql: `select ${HEAD} as head, case when ${condition} then (select 1 union all select 1) end as guard`,
      parameters,
    };
  },
  keptHeadSql: HEAD,
  failure: "21000",
};

/**
 * The key of the store's write lock, a transaction-level advisory lock: the
 * schema and the event relation's name, hashed to 64 bits. Taken by the
 * driver's write transactions and by {@link STORED_APPEND}.
 */
export function writeLockKey(eventTable: string): string {
  return `('x'::text OPERATOR(pg_catalog.||) pg_catalog.substr(pg_catalog.md5(pg_catalog.current_schema()::text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) ${packages.pg().escapeLiteral(eventTable)}), 1, 16))::bit(64)::bigint`;
}

/**
 * What {@link STORED_APPEND}'s function raises, before it does anything, when
 * it runs in a transaction that is not READ COMMITTED (a call in autocommit on
 * a session whose default isolation is another): the driver's `call` sends it
 * again inside BEGIN.
 */
export const NOT_READ_COMMITTED = "coherence-store: not read committed";

/** The parameters of {@link STORED_APPEND}'s function, as `StoredAppend.call` binds them. */
const PARAMETERS = [
  ["_base", "bigint"],
  ["_hash", "bigint"],
  ["_stamp", "bigint"],
  ["_source", "text"],
  ["_reason", "text"],
  ["_actor_kind", "text"],
  ["_actor_id", "text"],
  ["_aggregate_kind", "text"],
  ["_aggregate_id", "text"],
  ["_patch", "text"],
] as const;

/**
 * {@link StoredAppend} on PostgreSQL: a PL/pgSQL function that runs what the
 * driver's write transaction and the {@link HEADLESS} statements run (the
 * advisory lock, the head, the guard, both rows, the commit notification);
 * the driver's `call` runs it in autocommit (a transaction of its own, READ
 * COMMITTED, so that each statement after the lock sees every earlier
 * commit), or inside BEGIN READ COMMITTED and COMMIT in one round trip where
 * the session's default isolation is another. A refusal writes nothing and
 * answers the head it read and, where no effect came since the base, theirs
 * (see `StoredAppend`). Each session makes the function for
 * itself in `pg_temp` (in its first call's round trip) and calls it there by
 * that name: a function of the schema, or of any schema on the search path,
 * would run with the caller's rights whatever another role had put there
 * under its predictable name; a temporary one only the session sees. It
 * needs the TEMP right on the database (PUBLIC has it) and PL/pgSQL.
 */
const STORED_APPEND: StoredAppend = {
  name: storedAppendName,
  create: (tables, name) => {
    const [events, actions, effects] = [quoted(tables.event), quoted(tables.action), quoted(tables.effect)];
    const channel = derivedName(tables, "commits");
    const body = `begin
  if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
    raise exception using errcode = 'P0001', message = '${NOT_READ_COMMITTED}';
  end if;
  perform pg_catalog.set_config('max_parallel_workers_per_gather', '0', true), pg_catalog.pg_advisory_xact_lock(${writeLockKey(tables.event)});
  select coalesce(max("seq_no"), 0) into head from ${events};
  if _base > head + 1
    or exists (select 1 from ${actions} where "aggregate_hash" = _hash and "seq_no" >= _base)
    or (select max("seq_no") from ${effects}) >= _base then
    refused := true;
    -- Theirs, where the rules meet no effect: the first action of the aggregate since the base. Only
    -- where the client reads UTF-8: in SJIS, BIG5, GBK, UHC, JOHAB or GB18030 a character's bytes
    -- may hold a backslash or a quote that the JSON's escapes did not see.
    if _base <= head + 1 and pg_catalog.current_setting('client_encoding') = 'UTF8'
      and (select coalesce(max("seq_no"), 0) from ${effects}) < _base then
      select pg_catalog.json_build_array(${STORED_THEIRS.map((c) => `a.${quoted(c)}`).join(", ")})::text into theirs
        from ${actions} as a
        where a."aggregate_hash" = _hash and a."seq_no" >= _base and a."seq_no" <= head
          and a."aggregate_kind" = _aggregate_kind and a."aggregate_id" = _aggregate_id
        order by a."seq_no" limit 1;
    end if;
    return;
  end if;
  refused := false;
  insert into ${events} ("seq_no", "timestamp", "source") values (head + 1, _stamp, _source);
  insert into ${actions} ("seq_no", "reason", "actor_kind", "actor_id", "aggregate_kind", "aggregate_id", "aggregate_hash", "patch", "triggers", "timestamp", "source")
    values (head + 1, _reason, _actor_kind, _actor_id, _aggregate_kind, _aggregate_id, _hash, _patch, null, _stamp, _source);
  perform pg_catalog.pg_notify('${channel}', pg_catalog.current_schema()::text);
end`;
    return `create or replace function pg_temp.${quoted(name)}(${PARAMETERS.map(([p, type]) => `${p} ${type}`).join(", ")}, out head bigint, out refused boolean, out theirs text)
  language plpgsql volatile as $fn$
${body}
$fn$`;
  },
  perSession: true,
  call: (name) =>
    `select head, refused, theirs from pg_temp.${quoted(name)}(${PARAMETERS.map(([, type], i) => `$${i + 1}::${type}`).join(", ")})`,
  unavailable: new Set([
    // No such function even after it was made again; no temporary schema; no PL/pgSQL; no TEMP right
    // (or no USAGE of PL/pgSQL).
    "42883",
    "3F000",
    "42704",
    "42501",
  ]),
};

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
  override readonly identityInSql = true;
  override readonly insertsWithCtes = true;
  // A stream of 10,000 actions: 54 -> 48 ms (pages of 1,000 ahead), peak RSS unchanged.
  override readonly readsAhead = true;
  readonly aheadPageSize = 1000;
  readonly headless = HEADLESS;
  readonly storedAppend = STORED_APPEND;
  override readonly conflictGuard = "per-aggregate" as const;
  /**
   * The payload is the writer's schema: listeners of other schemas ignore it.
   * Without parameters (the channel is a quoted literal), so the driver can
   * send it in the commit's round trip.
   */
  notifyStatement(channel: string): Statement {
    return {
      sql: `select pg_catalog.pg_notify('${channel.replaceAll("'", "''")}', pg_catalog.current_schema()::text)`,
      parameters: [],
    };
  }
  foreignKeysQuery(db: Kysely<unknown>, keys: readonly (readonly [string, string])[]): CompiledQuery<ForeignKey> {
    return foreignKeysIn(db, "current_schema()", "text", keys);
  }
  dropForeignKey(key: ForeignKey): string {
    return `alter table ${quoted(key.table_name)} drop constraint if exists ${quoted(key.constraint_name)}`;
  }
  columnsQuery(db: Kysely<unknown>, relation: string): CompiledQuery<Column> {
    return sql<Column>`select column_name::text as name, is_nullable::text as nullable from information_schema.columns where table_schema = current_schema() and table_name = ${relation}`.compile(
      db,
    );
  }
  eventColumnsUpgrade(tables: TableNames, columns: readonly Column[]): { before: string[]; after: string[] } {
    const [a, e] = [quoted(tables.action), quoted(tables.event)];
    const after = alterEventColumns(columns, {
      alter: `alter table ${a}`,
      add: (c) => `add column if not exists ${quoted(c)} ${c === "timestamp" ? this.types.bigint : this.types.kind}`,
      fill: `update ${a} as a set "timestamp" = e."timestamp", "source" = e."source" from ${e} as e where e."seq_no" = a."seq_no" and (a."timestamp" is null or a."source" is null)`,
      notNull: (c) => `alter column ${quoted(c)} set not null`,
    });
    return { before: [], after };
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
