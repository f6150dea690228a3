export type { FollowOptions } from "./follow/follow-options.js";
export { type DecryptionCode, DecryptionError } from "./keystore/decryption-error.js";
export { openKeystore } from "./keystore/keystore.js";
export type {
  EncryptOptions,
  ExpireDueResult,
  ExpireResult,
  KeyAbsent,
  KeyExpired,
  KeyInfo,
  Keystore,
  KeystoreOptions,
  RotateResult,
} from "./keystore/keystore-types.js";
export { MASTER_KEY_ENV } from "./keystore/master-key.js";
export { isRedacted, REDACTED, type Redacted } from "./keystore/redacted.js";
export { applyPatch } from "./model/apply-patch.js";
export {
  CoherenceError,
  ConnectionError,
  DatabaseError,
  StoreClosedError,
  type ValidationCode,
  ValidationError,
  WriteConflictError,
} from "./model/errors.js";
export {
  type Action,
  type AggregateState,
  DEFAULT_LIMITS,
  DEFAULT_TABLES,
  type Effect,
  type Id,
  type Identity,
  isAction,
  type Json,
  type KeyPath,
  type Kind,
  type Limits,
  type NewAction,
  type NewEffect,
  type NewEvent,
  type Patch,
  type RebaseConflict,
  type RebaseInvalidSeqNo,
  type RebaseOk,
  type RebaseOptions,
  type RebaseResult,
  type RebaseWriteConflict,
  type StoredAction,
  type StoredEffect,
  type StoredEvent,
  type StreamOptions,
  type TableNames,
} from "./model/types.js";
export { type OpenStoreOptions, openStore } from "./open-store.js";
export type {
  BatchProjection,
  Projection,
  ProjectionBase,
  ProjectionContext,
  ProjectionSql,
  ProjectionStatus,
  RunProjectionOptions,
} from "./projections/projection.js";
export { deleteProjection, listProjections, rebuildProjection } from "./projections/projection-admin.js";
export { runProjection } from "./projections/run-projection.js";
export type {
  MysqlConnection,
  MysqlOptions,
  MysqlPool,
  MysqlPoolLike,
} from "./sql/dialects/mysql/mysql-driver.js";
export type {
  PostgresClient,
  PostgresOptions,
  PostgresPool,
} from "./sql/dialects/postgres/postgres-driver.js";
export type { SqliteOptions } from "./sql/dialects/sqlite/sqlite-driver.js";
export type { Store, StoreOptions } from "./store.js";
