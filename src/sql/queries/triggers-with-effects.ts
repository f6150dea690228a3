import type { Kysely } from "kysely";
import type { Schema } from "../schema.js";

/**
 * `triggers as t` joined with the `effects as f` on the same trigger, compared
 * exactly (hash for the index, then kind and id): the pairs behind both the
 * effect half of the conflict check and the replay.
 */
export function triggersWithEffects(db: Kysely<Schema>) {
  return db
    .selectFrom("triggers as t")
    .innerJoin("effects as f", (join) =>
      join
        .onRef("f.trigger_hash", "=", "t.trigger_hash")
        .onRef("f.trigger_kind", "=", "t.trigger_kind")
        .onRef("f.trigger_id", "=", "t.trigger_id"),
    );
}
