/** The relations of the SQL stores under their logical names (renamed per store by {@link renameTables}). */
export interface Schema {
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

/** The logical table names, keyed like `TableNames`. */
export const LOGICAL_TABLES = { event: "events", action: "actions", effect: "effects", trigger: "triggers" } as const;
