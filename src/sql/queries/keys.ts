import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";

/** A row of the keys relation. */
export type KeyRow = Schema["keys"];

const COLUMNS = [
  "trigger_digest",
  "trigger_kind",
  "trigger_id",
  "generation",
  "wrapped",
  "created_at",
  "expires_at",
  "expired_at",
] as const;

/** The key row of one trigger (zero or one row). */
export function selectKeyQuery(db: Kysely<Schema>, digest: string): CompiledQuery<KeyRow> {
  return db.selectFrom("keys").select(COLUMNS).where("trigger_digest", "=", digest).compile();
}

/**
 * One live key, any (zero or one row): the master key that opens it opens
 * them all. Found through the index of `expired_at`, null exactly for live
 * keys: with 300,000 expired keys, reading past them took 10-16 ms.
 */
export function anyLiveKeyQuery(db: Kysely<Schema>): CompiledQuery<KeyRow> {
  return db.selectFrom("keys").select(COLUMNS).where("expired_at", "is", null).limit(1).compile();
}

/** Stores the first key of a trigger; the caller holds the store's write lock and checked that there is no row. */
export function insertKeyQuery(db: Kysely<Schema>, row: KeyRow): CompiledQuery {
  return db.insertInto("keys").values(row).compile();
}

/** Puts a new key in the row of a trigger whose key expired. */
export function renewKeyQuery(db: Kysely<Schema>, row: KeyRow): CompiledQuery {
  return db
    .updateTable("keys")
    .set({
      generation: row.generation,
      wrapped: row.wrapped,
      created_at: row.created_at,
      expires_at: row.expires_at,
      expired_at: null,
    })
    .where("trigger_digest", "=", row.trigger_digest)
    .compile();
}

/** Every key row, live and expired, oldest first. */
export function listKeysQuery(db: Kysely<Schema>): CompiledQuery<KeyRow> {
  return db.selectFrom("keys").select(COLUMNS).orderBy("created_at").orderBy("trigger_digest").compile();
}

/** The live keys with `expires_at <= now`, earliest expiry first. */
export function dueKeysQuery(db: Kysely<Schema>, now: number): CompiledQuery<KeyRow> {
  return db
    .selectFrom("keys")
    .select(COLUMNS)
    .where("wrapped", "is not", null)
    .where("expires_at", "is not", null)
    .where("expires_at", "<=", now)
    .orderBy("expires_at")
    .orderBy("trigger_digest")
    .compile();
}

/** Sets the expiry of one key. */
export function setExpiryQuery(db: Kysely<Schema>, digest: string, expiresAt: number | null): CompiledQuery {
  return db.updateTable("keys").set({ expires_at: expiresAt }).where("trigger_digest", "=", digest).compile();
}

/** Replaces the wrapping of one key (master-key rotation). */
export function rewrapKeyQuery(db: Kysely<Schema>, digest: string, wrapped: string): CompiledQuery {
  return db.updateTable("keys").set({ wrapped }).where("trigger_digest", "=", digest).compile();
}

/** Shreds the key of one trigger: the wrapped key is overwritten, the row stays as a tombstone. */
export function shredKeyQuery(db: Kysely<Schema>, digest: string, expiredAt: number): CompiledQuery {
  return db
    .updateTable("keys")
    .set({ wrapped: null, expires_at: null, expired_at: expiredAt })
    .where("trigger_digest", "=", digest)
    .compile();
}
