import { type CompiledQuery, type Kysely, sql } from "kysely";
import type { Schema } from "../schema.js";
import { compiledOnce } from "./compiled-once.js";
import type { EventRow } from "./rows.js";

/**
 * The events with these seqNos, actions and effects alike, ascending: the
 * actions from their own relation (which holds their timestamp and source),
 * the effects with theirs from the event relation.
 */
export function readEventsQuery(db: Kysely<Schema>, seqNos: readonly number[]): CompiledQuery<EventRow> {
  return compiledOnce(db, `read-events:${seqNos.length}`, [...seqNos, ...seqNos], (slots) => {
    const none = sql<null>`null`;
    const actions = db
      .selectFrom("actions as a")
      .select([
        "a.seq_no",
        "a.timestamp",
        "a.source",
        "a.reason as action_reason",
        "a.actor_kind",
        "a.actor_id",
        "a.aggregate_kind",
        "a.aggregate_id",
        "a.patch",
        "a.triggers",
        none.as("effect_reason"),
        none.as("trigger_kind"),
        none.as("trigger_id"),
      ])
      .where("a.seq_no", "in", slots.slice(0, seqNos.length));
    const effects = db
      .selectFrom("effects as f")
      .innerJoin("events as e", "e.seq_no", "f.seq_no")
      .select([
        "f.seq_no",
        "e.timestamp",
        "e.source",
        none.as("action_reason"),
        none.as("actor_kind"),
        none.as("actor_id"),
        none.as("aggregate_kind"),
        none.as("aggregate_id"),
        none.as("patch"),
        none.as("triggers"),
        "f.reason as effect_reason",
        "f.trigger_kind",
        "f.trigger_id",
      ])
      .where("f.seq_no", "in", slots.slice(seqNos.length));
    // The branches agree column by column; their nulls stand for the other kind of event.
    return actions
      .unionAll(effects as never)
      .orderBy("seq_no")
      .compile();
  }) as CompiledQuery<EventRow>;
}
