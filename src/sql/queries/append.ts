import { type CompiledQuery, type Kysely, sql } from "kysely";
import type { EncodedEvent } from "../../model/codec.js";
import type { Schema } from "../schema.js";
import { triggersText } from "./rows.js";

type TableName = "events" | "actions" | "effects" | "triggers";

/** The columns of each table in the order its parameters are bound. */
const COLUMNS: { [T in TableName]: readonly (keyof Schema[T] & string)[] } = {
  events: ["seq_no", "timestamp", "source"],
  actions: [
    "seq_no",
    "reason",
    "actor_kind",
    "actor_id",
    "aggregate_kind",
    "aggregate_id",
    "aggregate_hash",
    "patch",
    "triggers",
    "timestamp",
    "source",
  ],
  effects: ["seq_no", "reason", "trigger_kind", "trigger_id", "trigger_hash"],
  triggers: [
    "seq_no",
    "position",
    "trigger_kind",
    "trigger_id",
    "trigger_hash",
    "aggregate_kind",
    "aggregate_id",
    "aggregate_hash",
  ],
};

/** The rows of every table for a batch of events, each row its parameters in {@link COLUMNS} order. */
export function appendRows(events: readonly EncodedEvent[]): { [T in TableName]: unknown[][] } {
  const rows: { [T in TableName]: unknown[][] } = { events: [], actions: [], effects: [], triggers: [] };
  for (const e of events) {
    rows.events.push([e.seqNo, e.timestamp, e.source]);
    if (e.action) {
      const { actor, aggregate, patch, triggers } = e.action;
      rows.actions.push([
        e.seqNo,
        e.reason,
        actor.kind,
        actor.id,
        aggregate.kind,
        aggregate.id,
        aggregate.hash,
        patch,
        triggersText(triggers),
        e.timestamp,
        e.source,
      ]);
      triggers.forEach((t, position) => {
        rows.triggers.push([e.seqNo, position, t.kind, t.id, t.hash, aggregate.kind, aggregate.id, aggregate.hash]);
      });
    } else if (e.effect) {
      const { trigger } = e.effect;
      rows.effects.push([e.seqNo, e.reason, trigger.kind, trigger.id, trigger.hash]);
    }
  }
  return rows;
}

/**
 * {@link appendRows} without the event rows of the actions, for an append that copies those
 * from the action rows (`SqlDialect.eventsFromActions`): the effects' event rows remain.
 */
export function withoutActionEvents(rows: { [T in TableName]: unknown[][] }): { [T in TableName]: unknown[][] } {
  const actionSeqNos = new Set(rows.actions.map((r) => r[0]));
  return { ...rows, events: rows.events.filter((r) => !actionSeqNos.has(r[0])) };
}

/**
 * A row's values for an INSERT, all parameters; with `keptHead` (the SQL of a
 * kept head, see `HeadlessAppend`) the seqNo is that + its parameter.
 */
function rowTemplate(table: TableName, keptHead: string | undefined): Record<string, unknown> {
  const template: Record<string, unknown> = Object.fromEntries(COLUMNS[table].map((c) => [c, null]));
  if (keptHead !== undefined) template.seq_no = sql`(${sql.raw(keptHead)} + ${null})`;
  return template;
}

/** `count` rows of {@link rowTemplate} for an INSERT's VALUES. */
function templateRows(table: TableName, count: number, keptHead: string | undefined): Record<string, unknown>[] {
  const template = rowTemplate(table, keptHead);
  return Array.from({ length: count }, () => template);
}

/**
 * One INSERT of `counts[table]` rows into each table with rows, the others
 * inserted by data-modifying `WITH` clauses; its parameters are the rows of
 * the tables in {@link TABLES} order. With `keptHead`, see {@link rowTemplate}.
 * With `copyEvents` and actions, the actions' event rows are copied from what
 * their insert returns, `counts.events` are the other events' (the effects'),
 * and the parameters are in {@link APPEND_ORDER}.
 */
export function combinedInsertQuery(
  db: Kysely<Schema>,
  counts: { readonly [T in TableName]: number },
  keptHead?: string,
  copyEvents = false,
): CompiledQuery {
  if (copyEvents && counts.actions > 0) return copyingInsertQuery(db, counts, keptHead);
  const tables = TABLES.filter((t) => counts[t] > 0);
  const last = tables.pop();
  if (last === undefined) throw new Error("an insert of no rows");
  const rows = (table: TableName) => templateRows(table, counts[table], keptHead);
  // biome-ignore lint/suspicious/noExplicitAny: the WITH clauses' names are not relations of the schema
  let query: any = db;
  for (const [i, table] of tables.entries())
    query = query.with(`w${i}`, (q: Kysely<Schema>) => q.insertInto(table).values(rows(table) as never));
  return query.insertInto(last).values(rows(last)).compile();
}

/** {@link combinedInsertQuery} with `copyEvents`, where there are actions. */
function copyingInsertQuery(
  db: Kysely<Schema>,
  counts: { readonly [T in TableName]: number },
  keptHead: string | undefined,
): CompiledQuery {
  const rows = (table: TableName) => templateRows(table, counts[table], keptHead);
  const event = COLUMNS.events;
  // biome-ignore lint/suspicious/noExplicitAny: the WITH clauses' names are not relations of the schema
  type Any = any;
  const inserts: ((q: Kysely<Schema>) => Any)[] = [
    (q) =>
      q
        .insertInto("events")
        .columns(event)
        // From plain `db`: a SELECT built from `q` would carry the WITH clauses into the subquery.
        .expression((db as Any).selectFrom("copied").select(event)),
    ...(["events", "effects", "triggers"] as const)
      .filter((t) => counts[t] > 0)
      .map((t) => (q: Kysely<Schema>) => q.insertInto(t).values(rows(t) as never)),
  ];
  let query: Any = db.with("copied", (q) =>
    q
      .insertInto("actions")
      .values(rows("actions") as never)
      .returning(event),
  );
  const last = inserts.pop() as (q: Kysely<Schema>) => Any;
  for (const [i, insert] of inserts.entries()) query = query.with(`w${i}`, insert);
  return last(query).compile();
}

/** The tables of an append, in the order their parameters are bound. */
export const TABLES: readonly TableName[] = ["events", "actions", "effects", "triggers"];

/** The tables of an append by table, in the order they are written: the actions' event rows are copied from theirs. */
export const APPEND_ORDER: readonly TableName[] = ["actions", "events", "effects", "triggers"];

/**
 * The event rows of the actions with `first <= seqNo <= last` (its two parameters), copied
 * from their action rows; with `keptHead`, both bounds are offsets from the kept head.
 */
export function eventsOfActionsQuery(db: Kysely<Schema>, keptHead?: string): CompiledQuery {
  const bound = (n: null) => (keptHead === undefined ? sql<number>`${n}` : sql<number>`(${sql.raw(keptHead)} + ${n})`);
  return db
    .insertInto("events")
    .columns(COLUMNS.events)
    .expression(
      db
        .selectFrom("actions")
        .select(COLUMNS.events)
        .where("seq_no", ">=", bound(null))
        .where("seq_no", "<=", bound(null)),
    )
    .compile();
}

/** The columns of a table, in the order its rows' parameters are bound. */
export function columnsOf(table: TableName): readonly string[] {
  return COLUMNS[table];
}

/** The number of columns of a table's rows. */
export function columnCount(table: TableName): number {
  return COLUMNS[table].length;
}

/** An INSERT of `count` rows into `table`; its parameters are the rows' values, row after row. With `keptHead`, see {@link rowTemplate}. */
export function insertQuery(db: Kysely<Schema>, table: TableName, count: number, keptHead?: string): CompiledQuery {
  const values = templateRows(table, count, keptHead);
  return (
    db
      .insertInto(table)
      // biome-ignore lint/suspicious/noExplicitAny: one template serves the four tables
      .values(values as any)
      .compile()
  );
}
