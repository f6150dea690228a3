import type { CompiledQuery, Kysely } from "kysely";
import type { ActionFilter } from "../../backend.js";
import type { Schema } from "../schema.js";
import { selectActions } from "./action-page.js";
import type { ActionRow } from "./rows.js";

/**
 * The replay of SPEC section 3: actions with `after < seqNo < offset` of
 * aggregates that carry a trigger of an effect with `offset <= seqNo <= head`.
 * The IN on the hash lets the database use its index; the EXISTS keeps the
 * match exact.
 */
export function replayPageQuery(
  db: Kysely<Schema>,
  filter: ActionFilter,
  offset: number,
  head: number,
  after: number,
  limit: number,
): CompiledQuery<ActionRow> {
  const effected = (eb: Kysely<Schema>) =>
    eb
      .selectFrom("effects as f")
      .innerJoin("triggers as t", (join) =>
        join
          .onRef("t.trigger_hash", "=", "f.trigger_hash")
          .onRef("t.trigger_kind", "=", "f.trigger_kind")
          .onRef("t.trigger_id", "=", "f.trigger_id"),
      )
      .where("f.seq_no", ">=", offset)
      .where("f.seq_no", "<=", head)
      // Triggers committed after the head are not in the snapshot: a follower reads while writers go on.
      .where("t.seq_no", "<=", head);
  return selectActions(db, filter)
    .where("a.seq_no", ">", after)
    .where("a.seq_no", "<", offset)
    .where("a.aggregate_hash", "in", effected(db).select("t.aggregate_hash"))
    .where(({ exists }) =>
      exists(
        effected(db)
          .select("t.seq_no")
          .whereRef("t.aggregate_hash", "=", "a.aggregate_hash" as never)
          .whereRef("t.aggregate_kind", "=", "a.aggregate_kind" as never)
          .whereRef("t.aggregate_id", "=", "a.aggregate_id" as never),
      ),
    )
    .orderBy("a.seq_no")
    .limit(limit)
    .compile();
}
