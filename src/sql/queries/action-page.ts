import type { CompiledQuery, Kysely, SelectQueryBuilder } from "kysely";
import type { ActionFilter } from "../../backend.js";
import type { Schema } from "../schema.js";
import type { ActionRow } from "./rows.js";

/** Filters longer than this are applied in JS only, keeping statements small. */
export const MAX_PUSHED_FILTER = 500;

type Actions = Schema & { a: Schema["actions"]; e: Schema["events"] };

/** `actions as a` joined with `events as e`, selecting an {@link ActionRow}, filtered as far as SQL can; its column order is the one `actionFromValues` reads. */
export function selectActions(
  db: Kysely<Schema>,
  filter: ActionFilter,
): SelectQueryBuilder<Actions, "a" | "e", ActionRow> {
  const { aggregates, kinds } = filter;
  return (db as unknown as Kysely<Actions>)
    .selectFrom("actions as a")
    .innerJoin("events as e", "e.seq_no", "a.seq_no")
    .select([
      "a.seq_no",
      "e.timestamp",
      "e.source",
      "a.reason",
      "a.actor_kind",
      "a.actor_id",
      "a.aggregate_kind",
      "a.aggregate_id",
      "a.patch",
      "a.triggers",
    ])
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
): CompiledQuery<ActionRow> {
  return (
    selectActions(db, filter)
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
