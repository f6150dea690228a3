import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";
import { compiledOnce } from "./compiled-once.js";

/** `{ head }`: the highest seqNo, null when the store is empty. */
export function headQuery(db: Kysely<Schema>): CompiledQuery<{ head: number | null }> {
  return compiledOnce(
    db,
    "head",
    [],
    () =>
      db
        .selectFrom("events")
        .select((eb) => eb.fn.max("seq_no").as("head"))
        .compile() as CompiledQuery<{
        head: number | null;
      }>,
  );
}

/** One row when an effect has `from <= seqNo <= until`. */
export function hasEffectsQuery(db: Kysely<Schema>, from: number, until: number): CompiledQuery {
  return compiledOnce(db, "has-effects", [from, until], (slots) =>
    db
      .selectFrom("effects")
      .select("seq_no")
      .where("seq_no", ">=", slots[0]!)
      .where("seq_no", "<=", slots[1]!)
      .limit(1)
      .compile(),
  );
}
