import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";
import { compiledOnce } from "./compiled-once.js";

/** `select max(seq_no) as head from events`: the highest seqNo, null when the store is empty. */
function maxSeqNo(db: Kysely<Schema>) {
  return db.selectFrom("events").select((eb) => eb.fn.max("seq_no").as("head"));
}

/** `{ head }`: the highest seqNo, null when the store is empty (read it with {@link headOf}). */
export function headQuery(db: Kysely<Schema>): CompiledQuery<{ head: unknown }> {
  return compiledOnce(db, "head", [], () => maxSeqNo(db).compile()) as CompiledQuery<{ head: unknown }>;
}

/**
 * `{ head, effects }`: the highest seqNo (null when the store is empty), and
 * whether an effect has `seqNo >= from`, in one statement: one snapshot, in
 * which no seqNo is past the head.
 */
export function headAndEffectsQuery(
  db: Kysely<Schema>,
  from: number,
): CompiledQuery<{ head: unknown; effects: unknown }> {
  return compiledOnce(db, "head-and-effects", [from], (slots) =>
    db
      .selectNoFrom((eb) => [
        maxSeqNo(db).as("head"),
        eb.exists(eb.selectFrom("effects").select("seq_no").where("seq_no", ">=", slots[0]!)).as("effects"),
      ])
      .compile(),
  ) as CompiledQuery<{ head: unknown; effects: unknown }>;
}

/** The head a {@link headQuery} or {@link headAndEffectsQuery} row holds: 0 for an empty store (or no row). */
export function headOf(row: { head: unknown } | undefined): number {
  return row?.head == null ? 0 : Number(row.head);
}
