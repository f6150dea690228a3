import type { AliasedRawBuilder, CompiledQuery, Kysely, RawBuilder, SelectQueryBuilder } from "kysely";
import type { ActionFilter } from "../../backend.js";
import type { Schema } from "../schema.js";
import type { ActionRow } from "./rows.js";

/** Filters longer than this are applied in JS only, keeping statements small. */
export const MAX_PUSHED_FILTER = 500;

type Actions = Schema & { a: Schema["actions"]; e: Schema["events"] };

/** A dialect's {@link SqlDialect.textOf}: a string column (`"a.patch"`) selected as text. */
export type TextOf = (ref: string) => RawBuilder<string>;

/** The string columns of an {@link ActionRow}, as `selectActions` reads them. */
const TEXT_COLUMNS = [
  "e.source",
  "a.reason",
  "a.actor_kind",
  "a.actor_id",
  "a.aggregate_kind",
  "a.aggregate_id",
  "a.patch",
  "a.triggers",
] as const;

/**
 * `actions as a` joined with `events as e`, selecting an {@link ActionRow}, filtered as far as SQL can;
 * its column order is the one `actionFromValues` reads. With `textOf`, the string columns are selected
 * through it, under their own names.
 */
export function selectActions(
  db: Kysely<Schema>,
  filter: ActionFilter,
  textOf?: TextOf,
): SelectQueryBuilder<Actions, "a" | "e", ActionRow> {
  const { aggregates, kinds } = filter;
  const text: readonly (string | AliasedRawBuilder<string, string>)[] = textOf
    ? TEXT_COLUMNS.map((ref) => textOf(ref).as(ref.slice(2)))
    : TEXT_COLUMNS;
  const columns = ["a.seq_no", "e.timestamp", ...text] as unknown as ["a.seq_no"];
  const selected = (db as unknown as Kysely<Actions>)
    .selectFrom("actions as a")
    .innerJoin("events as e", "e.seq_no", "a.seq_no")
    .select(columns) as unknown as SelectQueryBuilder<Actions, "a" | "e", ActionRow>;
  return selected
    .$if(aggregates !== undefined && aggregates.length <= MAX_PUSHED_FILTER, (q) =>
      q.where("a.aggregate_hash", "in", [...new Set(aggregates?.map((a) => a.hash))]),
    )
    .$if(kinds !== undefined && kinds.length <= MAX_PUSHED_FILTER, (q) =>
      q.where("a.aggregate_kind", "in", kinds ?? []),
    );
}

/** Actions with `after < seqNo <= until`, ascending, at most `limit`. */
export function actionPageQuery(
  db: Kysely<Schema>,
  filter: ActionFilter,
  after: number,
  until: number,
  limit: number,
  textOf?: TextOf,
): CompiledQuery<ActionRow> {
  return (
    selectActions(db, filter, textOf)
      .where("a.seq_no", ">", after)
      .where("a.seq_no", "<=", until)
      // The same range on the joined side lets the planner bound both index scans.
      .where("e.seq_no", ">", after)
      .where("e.seq_no", "<=", until)
      .orderBy("a.seq_no")
      .limit(limit)
      .compile()
  );
}
