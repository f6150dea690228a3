import type { CompiledQuery, Kysely } from "kysely";
import type { EncodedIdentity } from "../../model/codec.js";
import type { Schema } from "../schema.js";

/** The seqNos of every event that conflicts with an action on `aggregate` rebased on `offset`, ascending. */
export function conflictsQuery(
  db: Kysely<Schema>,
  offset: number,
  aggregate: EncodedIdentity,
): CompiledQuery<{ seq_no: number }> {
  const actions = db
    .selectFrom("actions")
    .select("seq_no")
    .where("aggregate_hash", "=", aggregate.hash)
    .where("aggregate_kind", "=", aggregate.kind)
    .where("aggregate_id", "=", aggregate.id)
    .where("seq_no", ">=", offset);
  const effects = db
    .selectFrom("effects as f")
    .select("f.seq_no")
    .where("f.seq_no", ">=", offset)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("triggers as t")
          .select("t.seq_no")
          .whereRef("t.trigger_hash", "=", "f.trigger_hash")
          .whereRef("t.trigger_kind", "=", "f.trigger_kind")
          .whereRef("t.trigger_id", "=", "f.trigger_id")
          .where("t.aggregate_hash", "=", aggregate.hash)
          .where("t.aggregate_kind", "=", aggregate.kind)
          .where("t.aggregate_id", "=", aggregate.id),
      ),
    );
  return actions.union(effects).orderBy("seq_no").compile();
}
