import type { EncodedEvent, EncodedIdentity } from "./model/codec.js";
import type { StoredAction } from "./model/types.js";

/**
 * The port a store implements for the store-agnostic rules (rebase, stream,
 * aggregate). A backend answers small questions; it holds no rule itself.
 */

/** What a write transaction may ask and do. Everything happens in one transaction under the store's write lock. */
export interface WriteTx {
  /** Highest stored seqNo + 1. */
  nextSeqNo(): Promise<number>;
  /**
   * For each of `aggregates`, the lowest seqNo `>= base` and not in `resolved`
   * of a stored event that conflicts with an action on it (SPEC section 2, rule
   * 3), keyed by {@link EncodedIdentity.key}; aggregates without one are absent.
   */
  firstConflicts(
    base: number,
    aggregates: readonly EncodedIdentity[],
    resolved: readonly number[],
  ): Promise<Map<string, number>>;
  /** The stored events with these seqNos, ascending. */
  readEvents(seqNos: readonly number[]): Promise<EncodedEvent[]>;
  /** Appends numbered events (seqNos `nextSeqNo()`, … in order), and the record of an idempotent rebase. */
  append(events: readonly EncodedEvent[], record?: RebaseRecord): Promise<void>;
  /** The record of the committed rebase with this id. */
  findRebase(id: string): Promise<RebaseRecord | undefined>;
}

/** A page of {@link Backend.patchPage}. */
export interface PatchPage {
  readonly patches: [number, string][];
  readonly last: number;
  readonly done: boolean;
}

/** What is kept of a committed rebase that had an id, in the same transaction as its events. */
export interface RebaseRecord {
  readonly id: string;
  /** A digest of the history, to tell a retry from a reuse of the id. */
  readonly digest: string;
  readonly firstSeqNo: number;
  readonly count: number;
}

/** {@link Backend.headAndEffects}: the head, and whether an effect has `from <= seqNo <= head`. */
export interface HeadAndEffects {
  readonly head: number;
  readonly effects: boolean;
}

/** A filter of actions by aggregate or aggregate kind. */
export interface ActionFilter {
  readonly aggregates?: readonly EncodedIdentity[];
  readonly kinds?: readonly string[];
}

/** A page of actions: those that passed the filter, and where the next page starts. */
export interface ActionPage {
  /**
   * The actions as a caller sees them, iterated once, in order: a backend may
   * decode each only when the iteration reaches it (the SQL stores do).
   */
  readonly actions: Iterable<StoredAction>;
  /** The highest seqNo the page looked at; the next page reads after it. */
  readonly last: number;
  /** True when nothing is left in the range. */
  readonly done: boolean;
}

/**
 * An {@link ActionPageQuery}'s `until` where no head is known: the page reads
 * the first `limit` actions past `after` in one snapshot of its own, and is
 * done when it finds fewer (seqNos are gapless and in commit order, so its
 * rows are every action of that snapshot up to the last of them).
 */
export const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** Reads actions with `after < seqNo <= until` (or {@link UNBOUNDED}), ascending, at most `limit` rows looked at. */
export interface ActionPageQuery extends ActionFilter {
  readonly after: number;
  readonly until: number;
  readonly limit: number;
}

/**
 * Reads the actions replayed for `offset` (SPEC section 3): `after < seqNo < offset`
 * of aggregates that carry a trigger of an effect with `offset <= seqNo <= head`.
 */
export interface ReplayPageQuery extends ActionFilter {
  readonly offset: number;
  readonly head: number;
  readonly after: number;
  readonly limit: number;
}

/** What {@link Backend.appendOnHead} answers when a check refused the append: it wrote nothing. */
export interface Refused {
  readonly refused: true;
  /** The head the check ran at, read under the write lock (every event up to it committed), where known. */
  readonly head?: number;
  /**
   * Where the check found it under the write lock: the conflict (rule 3) of
   * the one action appended, the first stored action on its aggregate with
   * `base <= seqNo <= head` when no effect came since `base`.
   */
  readonly theirs?: EncodedEvent;
}

/** A store's backend: the memory store, or the SQL store on one of its dialects. */
export interface Backend {
  initSchema(): Promise<void>;
  /**
   * Runs `fn` in one write transaction, serialized with every other writer of
   * the store (in this process and in others). Commits when `commit(result)`
   * is true, else rolls back. Concurrency failures throw `WriteConflictError`.
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>, commit: (result: T) => boolean): Promise<T>;
  /** The highest committed seqNo, 0 when empty. */
  head(): Promise<number>;
  /**
   * True when appending an event whose seqNo is taken fails with
   * `WriteConflictError` (the SQL stores' primary key): then a writer that
   * believes it is caught up may append at its base without reading the head
   * first, and read it only when that fails.
   */
  readonly refusesTakenSeqNos?: boolean;
  /**
   * Optional: true when {@link appendOnHead} takes `events` in one call on the
   * server that is not refused when another writer committed since (the
   * append on the head a writer saw is: see {@link refusesTakenSeqNos}): once
   * that append was refused, the rules skip it for a while.
   */
  appendsInOneCall?(events: readonly EncodedEvent[], resolved: readonly number[]): boolean;
  /**
   * True when streams should ask for their next page before the caller has
   * worked through the current one (see `readAhead`): where the database
   * server does much of a page's work, it then works while the caller does.
   */
  readonly readsAhead?: boolean;
  /**
   * Where the backend reads ahead: rows per page, when not the stream's own
   * page size (two pages are held while one is read ahead).
   */
  readonly aheadPageSize?: number;
  /**
   * The longest polling interval of an idle follower, in milliseconds, where
   * it is not `MAX_POLL_MS`: shorter where the commits of other processes are
   * found only by polling (MySQL/MariaDB have no notifications).
   */
  readonly pollCeilingMs?: number;
  /**
   * Optional: the rebase of `events` (numbered from 1) on `base` when it
   * passes, in one round trip: appends them after the head and commits,
   * unless `base` is past the head + 1 or a stored event may conflict with one
   * of `aggregates` (rule 3, with `resolved`; the check may err towards a
   * conflict, never away from one). Returns the first seqNo it appended at;
   * {@link Refused} when it wrote nothing because the base is past the head or
   * something may conflict; undefined when it cannot send the
   * history that way. When it wrote nothing, the full rules run.
   */
  appendOnHead?(
    base: number,
    events: readonly EncodedEvent[],
    aggregates: readonly EncodedIdentity[],
    resolved: readonly number[],
  ): Promise<number | Refused | undefined>;
  /**
   * Optional, with {@link appendOnHead}: {@link WriteTx.firstConflicts}
   * outside the write lock, as the store stood at its head when read (`next`
   * is that head + 1). seqNos are gapless and in commit order and committed
   * events never change, so this is what the write transaction would have
   * found with that head. Undefined when the check cannot be bound that way
   * (a very long `resolved`). With `head` (every event up to it committed, as
   * a {@link Refused} tells), bound by that head instead of one read now.
   */
  firstConflictsUnlocked?(
    base: number,
    aggregates: readonly EncodedIdentity[],
    resolved: readonly number[],
    head?: number,
  ): Promise<{ conflicts: Map<string, number>; next: number } | undefined>;
  /**
   * `[seqNo, patch JSON text]` of the actions on `aggregate` with
   * `after < seqNo <= until`, ascending: what `aggregate()` folds, a page of
   * at most `limit` rows read; `last` is the seqNo to read on after.
   */
  patchPage(aggregate: EncodedIdentity, after: number, until: number, limit: number): Promise<PatchPage>;
  /** Committed events by seqNo (those that exist), outside any write transaction. */
  readEvents(seqNos: readonly number[]): Promise<EncodedEvent[]>;
  actionPage(query: ActionPageQuery): Promise<ActionPage>;
  /**
   * The head, and whether an effect has `from <= seqNo <= head`, in one
   * snapshot (one read): what a stream from `from` needs before its pages.
   */
  headAndEffects(from: number): Promise<HeadAndEffects>;
  replayPage(query: ReplayPageQuery): Promise<ActionPage>;
  /** Every stored event that conflicts with an action on `aggregate` rebased on `offset`, ascending. */
  conflicts(offset: number, aggregate: EncodedIdentity): Promise<EncodedEvent[]>;
  close(): Promise<void>;
  /**
   * Names the database and event relation, the same for every backend on them
   * in this process, so that a commit wakes the followers of other stores
   * opened on it. Absent when the backend is its own database (memory).
   */
  readonly channel?: string | undefined;
  /**
   * Subscribes to commits of other processes (PostgreSQL LISTEN), where the
   * database can tell; returns the unsubscribe function.
   */
  watch?(onCommit: () => void, onError: (error: unknown) => void): () => void;
}
