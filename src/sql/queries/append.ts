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

/**
 * The rows of every table for a batch of events (one commit), each row its
 * parameters in {@link COLUMNS} order. The event relation gets a row for each
 * effect (its timestamp and source live there) and for the first and last
 * event of the batch, not for the actions between (schema version 3): an
 * action's row holds its timestamp and source, and those two rows are what
 * the relation's primary key and `max(seq_no)` need. Each commit starts right
 * after the head before it, so a writer that appends right after a head it
 * saw inserts the first seqNo of any commit made since, and is refused (see
 * `Backend.refusesTakenSeqNos`); and the last row of the last commit is the head.
 */
export function appendRows(events: readonly EncodedEvent[]): { [T in TableName]: unknown[][] } {
  const rows: { [T in TableName]: unknown[][] } = { events: [], actions: [], effects: [], triggers: [] };
  const last = events.length - 1;
  for (const [i, e] of events.entries()) {
    if (!e.action || i === 0 || i === last) rows.events.push([e.seqNo, e.timestamp, e.source]);
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
 * The parameters of a `StoredAppend` call for `event` on `base`: the base,
 * then the action's aggregate hash, timestamp, source, reason, actor kind,
 * actor id, aggregate kind, aggregate id and patch. Undefined for an effect,
 * or an action with triggers (the routine writes none).
 */
export function appendOneParameters(base: number, event: EncodedEvent): unknown[] | undefined {
  const action = event.action;
  if (action === undefined || action.triggers.length > 0) return undefined;
  const { actor, aggregate } = action;
  return [
    base,
    aggregate.hash,
    event.timestamp,
    event.source,
    event.reason,
    actor.kind,
    actor.id,
    aggregate.kind,
    aggregate.id,
    action.patch,
  ];
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
 */
export function combinedInsertQuery(
  db: Kysely<Schema>,
  counts: { readonly [T in TableName]: number },
  keptHead?: string,
): CompiledQuery {
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

/** The tables of an append, in the order their parameters are bound. */
export const TABLES: readonly TableName[] = ["events", "actions", "effects", "triggers"];

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
