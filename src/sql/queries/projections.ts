import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";

/** A projection's checkpoint row, as read. */
export interface CheckpointRow {
  readonly name: string;
  readonly checkpoint: number;
  readonly updated_at: number;
}

/**
 * Locks a projection's row until the transaction ends (a no-op update), so
 * two runners of one projection take turns and each sees the other's move
 * (on SQLite, write transactions take turns anyway). A new projection has
 * no row yet: of two runners inserting it, one fails and runs again.
 */
export function lockCheckpointQuery(db: Kysely<Schema>, name: string): CompiledQuery {
  return db
    .updateTable("projections")
    .set((eb) => ({ checkpoint: eb.ref("checkpoint") }))
    .where("name", "=", name)
    .compile();
}

/** The checkpoint rows, by name; one when `name` is given. */
export function selectCheckpointsQuery(db: Kysely<Schema>, name?: string): CompiledQuery<CheckpointRow> {
  return db
    .selectFrom("projections")
    .select(["name", "checkpoint", "updated_at"])
    .$if(name !== undefined, (q) => q.where("name", "=", name as string))
    .orderBy("name")
    .compile();
}

/** A new projection's row. */
export function insertCheckpointQuery(
  db: Kysely<Schema>,
  name: string,
  checkpoint: number,
  now: number,
): CompiledQuery {
  return db.insertInto("projections").values({ name, checkpoint, updated_at: now }).compile();
}

/** Moves a projection's checkpoint (its row is locked by this transaction). */
export function updateCheckpointQuery(
  db: Kysely<Schema>,
  name: string,
  checkpoint: number,
  now: number,
): CompiledQuery {
  return db.updateTable("projections").set({ checkpoint, updated_at: now }).where("name", "=", name).compile();
}

/** Forgets a projection. */
export function deleteCheckpointQuery(db: Kysely<Schema>, name: string): CompiledQuery {
  return db.deleteFrom("projections").where("name", "=", name).compile();
}
