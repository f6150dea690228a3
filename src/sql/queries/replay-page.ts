import type { CompiledQuery, Kysely } from "kysely";
import type { ActionFilter } from "../../backend.js";
import type { Schema } from "../schema.js";
import { selectActions, type TextOf } from "./action-page.js";
import type { ActionRow } from "./rows.js";

/**
 * The replay of SPEC section 3: actions with `after < seqNo < offset` of
 * aggregates that carry a trigger of an effect with `offset <= seqNo <= head`.
 * The triggers of the effects in the range are found first, each once, then the
 * aggregates that carry them, each once (DISTINCT on the exact identity), then
 * their actions through the index on the hash. Matching the
 * actions to the trigger rows directly (IN or EXISTS) pairs every action of
 * an aggregate with every trigger row of it, which MariaDB's semi-join plans
 * then weed out row by row: seconds for thousands of actions.
 */
export function replayPageQuery(
  db: Kysely<Schema>,
  filter: ActionFilter,
  offset: number,
  head: number,
  after: number,
  limit: number,
  textOf?: TextOf,
  identityIndex = false,
): CompiledQuery<ActionRow> {
  // The triggers of the effects in the range, each once: joining the trigger rows to the effects
  // themselves would pair each row with every effect on its trigger (10,000 rows x 1,000 effects:
  // ten million pairs before the DISTINCT), on every page.
  const effected = db
    .selectFrom("effects as f")
    .where("f.seq_no", ">=", offset)
    .where("f.seq_no", "<=", head)
    .select(["f.trigger_hash as hash", "f.trigger_kind as kind", "f.trigger_id as id"])
    .distinct()
    .as("e");
  const replayed = db
    .selectFrom(effected)
    .innerJoin("triggers as t", (join) =>
      join
        .onRef("t.trigger_hash", "=", "e.hash")
        .onRef("t.trigger_kind", "=", "e.kind")
        .onRef("t.trigger_id", "=", "e.id"),
    )
    // Triggers committed after the head are not in the snapshot: a follower reads while writers go on.
    .where("t.seq_no", "<=", head)
    .select(["t.aggregate_hash as hash", "t.aggregate_kind as kind", "t.aggregate_id as id"])
    .distinct()
    .as("r");
  return selectActions(db, filter, textOf, identityIndex)
    .innerJoin(replayed, (join) =>
      join
        .onRef("r.hash", "=", "a.aggregate_hash")
        .onRef("r.kind", "=", "a.aggregate_kind")
        .onRef("r.id", "=", "a.aggregate_id"),
    )
    .where("a.seq_no", ">", after)
    .where("a.seq_no", "<", offset)
    .orderBy("a.seq_no")
    .limit(limit)
    .compile();
}
