import type { CompiledQuery, Kysely } from "kysely";
import type { EncodedIdentity } from "../../model/codec.js";
import type { Schema } from "../schema.js";

/** One row per aggregate: its exact identity and the lowest conflicting seqNo of one kind (action or effect). */
export interface FirstConflictRow {
  kind: string;
  id: string;
  seq_no: number;
}

/**
 * SPEC section 2, rule 3, for a set of aggregates in one statement: per
 * aggregate, the first action on it and the first effect on one of its
 * triggers with `seqNo >= base`, not in `resolved`. Rows are grouped by the
 * exact identity, so a hash collision adds a row, never a wrong one.
 */
export function firstConflictsQuery(
  db: Kysely<Schema>,
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
): CompiledQuery<FirstConflictRow> {
  const hashes = [...new Set(aggregates.map((a) => a.hash))];
  const actions = db
    .selectFrom("actions")
    .select((eb) => ["aggregate_kind as kind", "aggregate_id as id", eb.fn.min("seq_no").as("seq_no")])
    .where("aggregate_hash", "in", hashes)
    .where("seq_no", ">=", base)
    .$if(resolved.length > 0, (q) => q.where("seq_no", "not in", resolved))
    .groupBy(["aggregate_hash", "aggregate_kind", "aggregate_id"]);
  const effects = db
    .selectFrom("triggers as t")
    .innerJoin("effects as f", (join) =>
      join
        .onRef("f.trigger_hash", "=", "t.trigger_hash")
        .onRef("f.trigger_kind", "=", "t.trigger_kind")
        .onRef("f.trigger_id", "=", "t.trigger_id"),
    )
    .select((eb) => ["t.aggregate_kind as kind", "t.aggregate_id as id", eb.fn.min("f.seq_no").as("seq_no")])
    .where("t.aggregate_hash", "in", hashes)
    .where("f.seq_no", ">=", base)
    .$if(resolved.length > 0, (q) => q.where("f.seq_no", "not in", resolved))
    .groupBy(["t.aggregate_hash", "t.aggregate_kind", "t.aggregate_id"]);
  return actions.unionAll(effects).compile() as CompiledQuery<FirstConflictRow>;
}

/** The parameters {@link firstConflictsQuery} binds for `n` aggregates. */
export function firstConflictsParameters(n: number, resolved: number): number {
  return 2 * n + 2 + 2 * resolved;
}
