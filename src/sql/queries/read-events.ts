import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";
import { compiledOnce } from "./compiled-once.js";
import type { EventRow } from "./rows.js";

/** The events with these seqNos, actions and effects alike, ascending. */
export function readEventsQuery(db: Kysely<Schema>, seqNos: readonly number[]): CompiledQuery<EventRow> {
  return compiledOnce(db, `read-events:${seqNos.length}`, seqNos, (slots) =>
    db
      .selectFrom("events as e")
      .leftJoin("actions as a", "a.seq_no", "e.seq_no")
      .leftJoin("effects as f", "f.seq_no", "e.seq_no")
      .select([
        "e.seq_no",
        "e.timestamp",
        "e.source",
        "a.reason as action_reason",
        "a.actor_kind",
        "a.actor_id",
        "a.aggregate_kind",
        "a.aggregate_id",
        "a.patch",
        "a.triggers",
        "f.reason as effect_reason",
        "f.trigger_kind",
        "f.trigger_id",
      ])
      .where("e.seq_no", "in", slots)
      .orderBy("e.seq_no")
      .compile(),
  ) as CompiledQuery<EventRow>;
}
