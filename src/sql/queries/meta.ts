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
   * How many commits shredded or re-wrapped keys, ever (it only grows).
   * Absent until the first, which adds it and {@link META.keysScrubbed}.
   */
  keyWrites: "key-writes",
  /**
   * The {@link META.keyWrites} count a finished scrub had read before it began
   * (see `KeyStorage.scrub`), the highest one: while below that count, copies
   * of old key material may be left in the database's files, also after a
   * crash between such a commit and its scrub.
   */
  keysScrubbed: "keys-scrubbed",
} as const;

/** Every row of the meta relation. */
export function metaRowsQuery(db: Kysely<Schema>): CompiledQuery<{ name: string; value: number }> {
  return db.selectFrom("meta").select(["name", "value"]).compile();
}

/** The values of some rows of the meta relation. */
export function metaValuesQuery(
  db: Kysely<Schema>,
  names: readonly string[],
): CompiledQuery<{ name: string; value: number }> {
  return db.selectFrom("meta").select(["name", "value"]).where("name", "in", names).compile();
}

/** Adds 1 to the value of one row of the meta relation. */
export function incrementMetaQuery(db: Kysely<Schema>, name: string): CompiledQuery {
  return db
    .updateTable("meta")
    .set((eb) => ({ value: eb("value", "+", 1) }))
    .where("name", "=", name)
    .compile();
}

/** Raises the value of one row of the meta relation to `value`; a higher one stays. */
export function raiseMetaQuery(db: Kysely<Schema>, name: string, value: number): CompiledQuery {
  return db.updateTable("meta").set({ value }).where("name", "=", name).where("value", "<", value).compile();
}

/** Adds one row to the meta relation. */
export function insertMetaQuery(db: Kysely<Schema>, name: string, value: number): CompiledQuery {
  return db.insertInto("meta").values({ name, value }).compile();
}

/** Sets the value of one row of the meta relation. */
export function updateMetaQuery(db: Kysely<Schema>, name: string, value: number): CompiledQuery {
  return db.updateTable("meta").set({ value }).where("name", "=", name).compile();
}
