import { type EncodedEvent, EncodedIdentity } from "../../model/codec.js";
import { DatabaseError } from "../../model/errors.js";
import { decodeId, encodeId } from "../../model/identity.js";
import type { Identity, Patch, StoredAction } from "../../model/types.js";

/** An action as read by the page queries. */
export interface ActionRow {
  seq_no: number;
  timestamp: number;
  source: string;
  reason: string;
  actor_kind: string;
  actor_id: string;
  aggregate_kind: string;
  aggregate_id: string;
  patch: string;
  triggers: string | null;
}

/** Any event as read by seqNo: the action or the effect columns are null. */
export interface EventRow {
  seq_no: number;
  timestamp: number;
  source: string;
  action_reason: string | null;
  actor_kind: string | null;
  actor_id: string | null;
  aggregate_kind: string | null;
  aggregate_id: string | null;
  patch: string | null;
  triggers: string | null;
  effect_reason: string | null;
  trigger_kind: string | null;
  trigger_id: string | null;
}

function triggersOf(text: string | null): EncodedIdentity[] {
  if (text === null) return [];
  return (JSON.parse(text) as Identity[]).map(([kind, id]) => new EncodedIdentity(kind, encodeId(id)));
}

/**
 * An action row without its event's timestamp or source: an action relation
 * of schema version 1 whose upgrade has not finished (see `eventColumnsUpgrade`).
 */
function unmigrated(seqNo: unknown): DatabaseError {
  return new DatabaseError(
    `action ${seqNo} has no timestamp or source in the action relation: its upgrade to schema version 2 has not finished; run initSchema()`,
    { cause: undefined, code: "schema-version" },
  );
}

/** The row form of an action read back. */
export function actionFromRow(r: ActionRow): EncodedEvent {
  return {
    seqNo: Number(r.seq_no),
    timestamp: Number(r.timestamp),
    source: r.source,
    reason: r.reason,
    action: {
      actor: new EncodedIdentity(r.actor_kind, r.actor_id),
      aggregate: new EncodedIdentity(r.aggregate_kind, r.aggregate_id),
      patch: r.patch,
      triggers: triggersOf(r.triggers),
    },
  };
}

/** {@link actionFromRow} of a row read as an array, its columns in {@link ActionRow}'s order (see `selectActions`). */
export function actionFromValues(v: readonly unknown[]): EncodedEvent {
  if (v[1] === null || v[2] === null) throw unmigrated(v[0]);
  return {
    seqNo: Number(v[0]),
    timestamp: Number(v[1]),
    source: v[2] as string,
    reason: v[3] as string,
    action: {
      actor: new EncodedIdentity(v[4] as string, v[5] as string),
      aggregate: new EncodedIdentity(v[6] as string, v[7] as string),
      patch: v[8] as string,
      triggers: triggersOf(v[9] as string | null),
    },
  };
}

/**
 * {@link decodeId} of an id's stored JSON, without the parser for the common
 * ids: a string with nothing escaped is its text between the quotes (since
 * `JSON.stringify` escapes every quote, backslash and control character), an
 * integer in JSON's form (digits, no leading zero) is `Number` of its text.
 */
function idOf(text: string): string | number {
  const end = text.length - 1;
  const c = text.charCodeAt(0);
  if (c === 34) {
    if (end > 0 && text.indexOf("\\") < 0 && text.indexOf('"', 1) === end) return text.slice(1, end);
  } else if (isJsonInteger(text)) {
    return Number(text);
  }
  return decodeId(text);
}

/** True for `0`, `-0`, and digits without a leading zero, with an optional minus. */
function isJsonInteger(text: string): boolean {
  const start = text.charCodeAt(0) === 45 ? 1 : 0;
  if (text.length <= start || (text.charCodeAt(start) === 48 && text.length > start + 1)) return false;
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return true;
}

/**
 * The action a caller sees of its stored columns: `decodeEvent` of the row
 * form `actionFromValues` makes, equal value for value, without that form
 * between (a stream reads thousands of rows a page).
 */
function storedAction(
  seqNo: unknown,
  timestamp: unknown,
  source: unknown,
  reason: unknown,
  actorKind: unknown,
  actorId: unknown,
  aggregateKind: unknown,
  aggregateId: unknown,
  patch: unknown,
  triggers: unknown,
): StoredAction {
  if (timestamp === null || source === null) throw unmigrated(seqNo);
  const action: StoredAction = {
    seqNo: Number(seqNo),
    timestamp: new Date(Number(timestamp)),
    source: source as string,
    action: {
      reason: reason as string,
      actor: [actorKind as string, idOf(actorId as string)],
      aggregate: [aggregateKind as string, idOf(aggregateId as string)],
      patch: JSON.parse(patch as string) as Patch,
    },
  };
  if (triggers === null) return action;
  // The stored list holds the ids as written (JSON): parsed, the identities themselves.
  const list = JSON.parse(triggers as string) as Identity[];
  return list.length > 0 ? { ...action, triggers: list } : action;
}

/** {@link storedAction} of a row read as an array, its columns in {@link ActionRow}'s order (see `selectActions`). */
export function storedActionFromValues(v: readonly unknown[]): StoredAction {
  return storedAction(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
}

/** The row form of any event read back. */
export function eventFromRow(r: EventRow): EncodedEvent {
  if (r.action_reason !== null) {
    return actionFromRow({
      ...r,
      reason: r.action_reason,
      actor_kind: r.actor_kind as string,
      actor_id: r.actor_id as string,
      aggregate_kind: r.aggregate_kind as string,
      aggregate_id: r.aggregate_id as string,
      patch: r.patch as string,
    });
  }
  if (r.effect_reason === null) {
    throw new DatabaseError(`event ${r.seq_no} is neither an action nor an effect`, { cause: undefined });
  }
  return {
    seqNo: Number(r.seq_no),
    timestamp: Number(r.timestamp),
    source: r.source,
    reason: r.effect_reason,
    effect: { trigger: new EncodedIdentity(r.trigger_kind as string, r.trigger_id as string) },
  };
}

/** The stored JSON of a trigger list: the identities as written. */
export function triggersText(triggers: readonly EncodedIdentity[]): string | null {
  if (triggers.length === 0) return null;
  return `[${triggers.map((t) => `[${JSON.stringify(t.kind)},${t.id}]`).join(",")}]`;
}
