import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";

/**
 * The version of the relations `initSchema` creates, recorded in the meta
 * relation so that a later release knows what it migrates from. Version 2
 * keeps each event's timestamp and source in the action relation too.
 * Version 3 has the same relations; the event relation holds a row for each
 * effect and for the first and last event of each commit only (see
 * `appendRows`), so a release before it would miss actions where it reads
 * them through that relation. Data of version 2 needs no change.
 */
export const SCHEMA_VERSION = 3;

/** Names of the rows of the meta relation. */
export const META = {
  /** The schema version the relations were created or last migrated to. */
  schemaVersion: "schema-version",
  /** A row a write transaction locks first where the database has no table-level write lock to offer (MySQL). */
  writeLock: "write-lock",
  /**
   * How many commits shredded or re-wrapped keys since the last scrub that
   * finished (see `KeyStorage.scrub`): while above 0, copies of old key
   * material may be left in the database's files, also after a crash
   * between such a commit and its scrub. Absent until the first.
   */
  scrubPending: "scrub-pending",
} as const;

/** Every row of the meta relation. */
export function metaRowsQuery(db: Kysely<Schema>): CompiledQuery<{ name: string; value: number }> {
  return db.selectFrom("meta").select(["name", "value"]).compile();
}

/** The value of one row of the meta relation (no row when it is absent). */
export function metaValueQuery(db: Kysely<Schema>, name: string): CompiledQuery<{ value: number }> {
  return db.selectFrom("meta").select("value").where("name", "=", name).compile();
}

/** Sets one row of the meta relation to 0 if its value is still `expected`. */
export function resetMetaQuery(db: Kysely<Schema>, name: string, expected: number): CompiledQuery {
  return db.updateTable("meta").set({ value: 0 }).where("name", "=", name).where("value", "=", expected).compile();
}

/** Adds one row to the meta relation. */
export function insertMetaQuery(db: Kysely<Schema>, name: string, value: number): CompiledQuery {
  return db.insertInto("meta").values({ name, value }).compile();
}

/** Sets the value of one row of the meta relation. */
export function updateMetaQuery(db: Kysely<Schema>, name: string, value: number): CompiledQuery {
  return db.updateTable("meta").set({ value }).where("name", "=", name).compile();
}
