/** The relations of the SQL stores under their logical names (renamed per store by {@link renameTables}). */
export interface Schema extends ExtraSchema {
  events: { seq_no: number; timestamp: number; source: string };
  actions: {
    seq_no: number;
    reason: string;
    actor_kind: string;
    actor_id: string;
    aggregate_kind: string;
    aggregate_id: string;
    aggregate_hash: number;
    patch: string;
    triggers: string | null;
    /** The event's timestamp and source, kept beside the action too (schema version 2): an action is read without the event relation. */
    timestamp: number;
    source: string;
  };
  effects: { seq_no: number; reason: string; trigger_kind: string; trigger_id: string; trigger_hash: number };
  triggers: {
    seq_no: number;
    position: number;
    trigger_kind: string;
    trigger_id: string;
    trigger_hash: number;
    aggregate_kind: string;
    aggregate_id: string;
    aggregate_hash: number;
  };
}

/** Relations beyond the four of SPEC section 4, named after the event relation (see {@link derivedName}). */
export interface ExtraSchema {
  /** Committed rebases that carried an id: what a retry with that id gets back. */
  rebases: { id: string; digest: string; first_seq_no: number; count: number };
  /** Named values of the store itself: the schema version, and the row writers lock where the database needs one. */
  meta: { name: string; value: number };
  /**
   * The keystore's data keys, wrapped by the master key, one row per trigger.
   * Expiry overwrites the wrapped key with NULL: the row stays as a tombstone
   * that tells a shredded key (redacted) from another trigger's (an error).
   */
  keys: {
    trigger_digest: string;
    trigger_kind: string;
    trigger_id: string;
    generation: number;
    wrapped: string | null;
    created_at: number;
    expires_at: number | null;
    expired_at: number | null;
  };
  /** Each projection's checkpoint: the head up to which it has applied everything, moved with its read model. */
  projections: { name: string; checkpoint: number; updated_at: number };
}

/** The logical table names, keyed like `TableNames`. */
export const LOGICAL_TABLES = { event: "events", action: "actions", effect: "effects", trigger: "triggers" } as const;
