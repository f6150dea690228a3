import type { CompiledQuery, Kysely } from "kysely";
import type { EncodedIdentity } from "../../model/codec.js";
import type { Schema } from "../schema.js";
import type { TextOf } from "./action-page.js";
import { compiledOnce } from "./compiled-once.js";

/**
 * `[seq_no, patch]` of the actions on `aggregate` with `after < seqNo <= until`,
 * ascending, at most `limit`: what `aggregate()` folds, through the
 * `actions(aggregate_hash, seq_no)` index, without the event columns.
 */
export function patchPageQuery(
  db: Kysely<Schema>,
  aggregate: EncodedIdentity,
  after: number,
  until: number,
  limit: number,
  textOf?: TextOf,
): CompiledQuery {
  const values = [aggregate.hash, aggregate.kind, aggregate.id, after, until, limit];
  return compiledOnce(db, `patch-page:${textOf ? "text" : "bytes"}`, values, (slots) =>
    db
      .selectFrom("actions")
      .select(["seq_no", textOf ? textOf("patch").as("patch") : "patch"])
      .where("aggregate_hash", "=", slots[0] as never)
      .where("aggregate_kind", "=", slots[1] as never)
      .where("aggregate_id", "=", slots[2] as never)
      .where("seq_no", ">", slots[3] as never)
      .where("seq_no", "<=", slots[4] as never)
      .orderBy("seq_no")
      .limit(slots[5] as never)
      .compile(),
  );
}
