/**
 * The data model of SPEC section 1: identities, patches, actions, effects and
 * the events that carry them, before and after they are stored.
 */

/** A JSON value: what a patch may hold. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A kind of aggregate, actor or trigger: a non-empty string of at most 200 UTF-16 code units. */
export type Kind = string;

/** An id: a safe integer or a non-empty string. `1` and `"1"` are different ids. */
export type Id = number | string;

/** What an action or an effect is about: `[kind, id]`, e.g. `["book", "Neuromancer"]`. */
export type Identity = readonly [Kind, Id];

/** A key, or a non-empty path of keys into nested objects. `"a"` and `["a"]` name the same field. */
export type KeyPath = string | readonly string[];

/**
 * A change to an aggregate's state: `assoc` sets values (an object, or a list of
 * `[keyPath, value]` pairs), then `dissoc` removes keys.
 *
 * @example
 * const patch: Patch = { assoc: [[["address", "city"], "Berlin"]], dissoc: ["phone"] };
 */
export interface Patch {
  readonly assoc?: { readonly [key: string]: Json } | ReadonlyArray<readonly [KeyPath, Json]>;
  readonly dissoc?: readonly KeyPath[];
}

/** An actor's change of an aggregate, for a reason. */
export interface Action {
  readonly reason: string;
  readonly actor: Identity;
  readonly aggregate: Identity;
  readonly patch: Patch;
}

/** Something that happened to a trigger (say, an expired key): aggregates linked to it are replayed. */
export interface Effect {
  readonly reason: string;
  readonly trigger: Identity;
}

/** An action to append, with the triggers it is linked to. */
export interface NewAction {
  readonly timestamp: Date;
  readonly source: string;
  readonly action: Action;
  readonly triggers?: readonly Identity[];
}

/** An effect to append. */
export interface NewEffect {
  readonly timestamp: Date;
  readonly source: string;
  readonly effect: Effect;
}

/** Anything a history may hold. */
export type NewEvent = NewAction | NewEffect;

/** An action as stored, with its global sequence number. */
export interface StoredAction extends NewAction {
  readonly seqNo: number;
}

/** An effect as stored, with its global sequence number. */
export interface StoredEffect extends NewEffect {
  readonly seqNo: number;
}

/** Any stored event. */
export type StoredEvent = StoredAction | StoredEffect;

/** Options of {@link Store.rebase}. */
export interface RebaseOptions {
  /** Sequence numbers the caller has seen and resolved: they no longer conflict. */
  readonly resolved?: readonly number[];
  /** Check only: return what would happen, write nothing. */
  readonly dry?: boolean;
  /**
   * Makes the rebase idempotent: once a rebase with this id has committed, the
   * same id with the same history returns the original `ok` result and writes
   * nothing; with another history it is a `ValidationError` (`id-reused`).
   * At most 200 characters.
   */
  readonly id?: string;
}

/** The history was written: each event with the seqNo it got. */
export interface RebaseOk {
  readonly result: "ok";
  readonly events: StoredEvent[];
}

/** An action of the history touches an aggregate changed since `base`; nothing was written. */
export interface RebaseConflict {
  readonly result: "conflict";
  /** The history events before `ours`, numbered as they would have been. */
  readonly events: StoredEvent[];
  /** `ours` is always an action: effects of a history are not checked (SPEC section 2, rule 3). */
  readonly conflict: { readonly ours: StoredAction; readonly theirs: StoredEvent };
}

/** `base` lies beyond the next sequence number; nothing was written. */
export interface RebaseInvalidSeqNo {
  readonly result: "invalid-seq-no";
  readonly nextSeqNo: number;
}

/** The database refused the write for concurrency, after bounded retries; nothing was written. */
export interface RebaseWriteConflict {
  readonly result: "write-conflict";
  readonly error: Error;
}

/** What {@link Store.rebase} returns: switch on `result`. */
export type RebaseResult = RebaseOk | RebaseConflict | RebaseInvalidSeqNo | RebaseWriteConflict;

/** Options of {@link Store.stream}. */
export interface StreamOptions {
  /** The first seqNo to read; earlier actions come only when an effect since then replays their aggregate. */
  readonly offset?: number;
  /** Only these aggregates. */
  readonly aggregates?: readonly Identity[];
  /** Only aggregates of these kinds. */
  readonly kinds?: readonly Kind[];
}

/** An aggregate's state: the fold of its patches, and the seqNo of its last action. */
export interface AggregateState {
  readonly state: { [key: string]: Json };
  readonly seqNo: number;
}

/** Limits on input (SPEC section 5). */
export interface Limits {
  /** UTF-8 bytes of one event's JSON. Default 1 MiB. */
  readonly eventBytes: number;
  /** Nesting of patch values. Default 64, at most 1,000. */
  readonly depth: number;
  /** Events in one history. Default 10,000. */
  readonly historyLength: number;
  /** Entries of `resolved`. Default 10,000. */
  readonly resolvedLength: number;
}

/** The default {@link Limits}. */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  eventBytes: 1024 * 1024,
  depth: 64,
  historyLength: 10_000,
  resolvedLength: 10_000,
});

/** Names of the four relations (SPEC section 4). */
export interface TableNames {
  readonly event: string;
  readonly action: string;
  readonly effect: string;
  readonly trigger: string;
}

/** The default {@link TableNames}. */
export const DEFAULT_TABLES: TableNames = Object.freeze({
  event: "events",
  action: "actions",
  effect: "effects",
  trigger: "triggers",
});

/** True when the event is an action. */
export function isAction<T extends NewEvent>(event: T): event is Extract<T, NewAction> {
  return (event as Partial<NewAction>).action !== undefined;
}
