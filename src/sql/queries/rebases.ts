import type { CompiledQuery, Kysely } from "kysely";
import type { RebaseRecord } from "../../backend.js";
import type { Schema } from "../schema.js";

/** The record of the committed rebase with this id (zero or one row). */
export function findRebaseQuery(
  db: Kysely<Schema>,
  id: string,
): CompiledQuery<{ digest: string; first_seq_no: number; count: number }> {
  return db.selectFrom("rebases").select(["digest", "first_seq_no", "count"]).where("id", "=", id).compile();
}

/** Records a committed rebase that had an id, in its own transaction. */
export function insertRebaseQuery(db: Kysely<Schema>, record: RebaseRecord): CompiledQuery {
  return db
    .insertInto("rebases")
    .values({ id: record.id, digest: record.digest, first_seq_no: record.firstSeqNo, count: record.count })
    .compile();
}
