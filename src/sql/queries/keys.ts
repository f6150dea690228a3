import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";

/** A row of the keys relation. */
export type KeyRow = Schema["keys"];

const COLUMNS = [
  "trigger_digest",
  "trigger_kind",
  "trigger_id",
  "key_id",
  "wrapped",
  "created_at",
  "expires_at",
] as const;

/** The key of one trigger (zero or one row). */
export function selectKeyQuery(db: Kysely<Schema>, digest: string): CompiledQuery<KeyRow> {
  return db.selectFrom("keys").select(COLUMNS).where("trigger_digest", "=", digest).compile();
}

/** Stores a new key; the caller holds the store's write lock and checked that none exists. */
export function insertKeyQuery(db: Kysely<Schema>, row: KeyRow): CompiledQuery {
  return db.insertInto("keys").values(row).compile();
}

/** Every key, oldest first. */
export function listKeysQuery(db: Kysely<Schema>): CompiledQuery<KeyRow> {
  return db.selectFrom("keys").select(COLUMNS).orderBy("created_at").orderBy("trigger_digest").compile();
}

/** The keys with `expires_at <= now`, earliest expiry first. */
export function dueKeysQuery(db: Kysely<Schema>, now: number): CompiledQuery<KeyRow> {
  return db
    .selectFrom("keys")
    .select(COLUMNS)
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

/** Deletes the key of one trigger: the shredding itself. */
export function deleteKeyQuery(db: Kysely<Schema>, digest: string): CompiledQuery {
  return db.deleteFrom("keys").where("trigger_digest", "=", digest).compile();
}
