import { decodeId, encodeId, hashKey, identityKey } from "./identity.js";
import type { Identity, NewEvent, Patch, StoredAction, StoredEvent } from "./types.js";

/**
 * An identity as stored: the kind, and the id as JSON text. Its map key and
 * 53-bit hash are computed on first use only (reads rarely need them).
 */
export class EncodedIdentity {
  #key: string | undefined;
  #hash: number | undefined;

  constructor(
    readonly kind: string,
    readonly id: string,
  ) {}

  /** {@link identityKey} of kind and id: exact and unambiguous. */
  get key(): string {
    this.#key ??= identityKey(this.kind, this.id);
    return this.#key;
  }

  /** {@link hashKey} of the key: what the SQL stores index. */
  get hash(): number {
    this.#hash ??= hashKey(this.key);
    return this.#hash;
  }
}

/** An event in the row form every store keeps (the memory store too, so values behave alike). */
export interface EncodedEvent {
  readonly seqNo: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly source: string;
  readonly reason: string;
  readonly action?: {
    readonly actor: EncodedIdentity;
    readonly aggregate: EncodedIdentity;
    /** The patch as JSON text, in the form it was written. */
    readonly patch: string;
    readonly triggers: readonly EncodedIdentity[];
  };
  readonly effect?: { readonly trigger: EncodedIdentity };
}

/** The triggers of an action without any: one shared, frozen list. */
const NO_TRIGGERS: readonly EncodedIdentity[] = Object.freeze([]);

/** Encodes one identity. */
export function encodeIdentity(identity: Identity): EncodedIdentity {
  return new EncodedIdentity(identity[0], encodeId(identity[1]));
}

/**
 * Encodes a validated event with the seqNo it gets. `patchJson`, when given,
 * is `JSON.stringify` of the action's patch, already made by validation.
 */
export function encodeEvent(event: NewEvent, seqNo: number, patchJson?: string): EncodedEvent {
  const timestamp = event.timestamp.getTime();
  if ("action" in event && event.action !== undefined) {
    const { reason, actor, aggregate, patch } = event.action;
    return {
      seqNo,
      timestamp,
      source: event.source,
      reason,
      action: {
        actor: encodeIdentity(actor),
        aggregate: encodeIdentity(aggregate),
        patch: patchJson ?? JSON.stringify(patch),
        triggers: event.triggers === undefined ? NO_TRIGGERS : event.triggers.map(encodeIdentity),
      },
    };
  }
  const { effect } = event as { effect: { reason: string; trigger: Identity } };
  return {
    seqNo,
    timestamp,
    source: event.source,
    reason: effect.reason,
    effect: { trigger: encodeIdentity(effect.trigger) },
  };
}

function identityOf(e: EncodedIdentity): Identity {
  return [e.kind, decodeId(e.id)];
}

/** Decodes the row form into the event a caller sees: equal, value for value, to what was written. */
export function decodeEvent(e: EncodedEvent): StoredEvent {
  const timestamp = new Date(e.timestamp);
  if (e.action !== undefined) {
    const action: StoredAction = {
      seqNo: e.seqNo,
      timestamp,
      source: e.source,
      action: {
        reason: e.reason,
        actor: identityOf(e.action.actor),
        aggregate: identityOf(e.action.aggregate),
        patch: JSON.parse(e.action.patch) as Patch,
      },
    };
    if (e.action.triggers.length > 0) {
      return { ...action, triggers: e.action.triggers.map(identityOf) };
    }
    return action;
  }
  const trigger = (e.effect as { trigger: EncodedIdentity }).trigger;
  return { seqNo: e.seqNo, timestamp, source: e.source, effect: { reason: e.reason, trigger: identityOf(trigger) } };
}

/** A patch as it reads back: a key whose value is `undefined` counts as absent (JSON drops it). */
function storedPatch(patch: Patch): Patch {
  for (const key in patch) {
    if ((patch as Record<string, unknown>)[key] === undefined) {
      return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Patch;
    }
  }
  return patch;
}

/**
 * The stored event of a validated event numbered `seqNo`: equal (deepStrictEqual) to
 * `decodeEvent(encodeEvent(event, seqNo))`, without the JSON round trip. Its values are
 * `event`'s own, so `event` must be a private plain copy whose `-0`s are already `0`
 * (validation's snapshot), and is not to be used elsewhere afterwards.
 */
export function storedEvent(event: NewEvent, seqNo: number): StoredEvent {
  const { timestamp, source } = event;
  if ("action" in event && event.action !== undefined) {
    const { reason, actor, aggregate, patch } = event.action;
    const action: StoredAction = {
      seqNo,
      timestamp,
      source,
      action: { reason, actor, aggregate, patch: storedPatch(patch) },
    };
    return event.triggers === undefined ? action : { ...action, triggers: event.triggers };
  }
  const { reason, trigger } = (event as { effect: { reason: string; trigger: Identity } }).effect;
  return { seqNo, timestamp, source, effect: { reason, trigger } };
}
