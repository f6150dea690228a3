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

/**
 * `{ head, effects }`: the highest seqNo (null when the store is empty), and
 * whether an effect has `seqNo >= from`, in one statement: one snapshot, in
 * which no seqNo is past the head.
 */
export function headAndEffectsQuery(
  db: Kysely<Schema>,
  from: number,
): CompiledQuery<{ head: number | string | null; effects: unknown }> {
  return compiledOnce(db, "head-and-effects", [from], (slots) =>
    db
      .selectNoFrom((eb) => [
        eb
          .selectFrom("events")
          .select((e) => e.fn.max("seq_no").as("head"))
          .as("head"),
        eb.exists(eb.selectFrom("effects").select("seq_no").where("seq_no", ">=", slots[0]!)).as("effects"),
      ])
      .compile(),
  ) as CompiledQuery<{ head: number | string | null; effects: unknown }>;
}
