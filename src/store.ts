import type { FollowOptions } from "./follow/follow-options.js";
import type {
  AggregateState,
  Identity,
  Limits,
  NewEvent,
  RebaseOptions,
  RebaseResult,
  StoredAction,
  StoredEvent,
  StreamOptions,
  TableNames,
} from "./model/types.js";

/**
 * An event store: append histories by rebasing them, read actions as streams.
 * Open one with {@link openStore}.
 *
 * @example
 * const store = openStore("sqlite:books.db");
 * await store.initSchema();
 * const r = await store.rebase(1, [{ timestamp: new Date(), source: "shop",
 *   action: { reason: "create", actor: ["user", "alice"], aggregate: ["book", "Neuromancer"],
 *             patch: { assoc: { author: "William Gibson" } } } }]);
 * if (r.result === "ok") console.log(r.events[0]?.seqNo); // 1
 * await store.close();
 */
export interface Store {
  /** Creates the relations and indexes the store needs; idempotent. */
  initSchema(): Promise<void>;
  /**
   * Appends `history` on top of `base` (the first seqNo the caller has not seen),
   * all or nothing. An action on an aggregate changed since `base` is a
   * conflict, unless the change's seqNo is in `resolved`.
   */
  rebase(base: number, history: readonly NewEvent[], options?: RebaseOptions): Promise<RebaseResult>;
  /** The actions from `offset` on, plus earlier actions that effects since then replay, ascending. */
  stream(options?: StreamOptions): AsyncIterable<StoredAction>;
  /**
   * What successive `stream` calls over the growing store yield: first the
   * stream from `offset`, then each new batch of commits (its actions, and the
   * earlier actions its effects replay), until `options.signal` aborts or the
   * loop stops. `options.onCaughtUp(head)` is called each time everything
   * committed so far has been delivered.
   *
   * @example
   * const controller = new AbortController();
   * for await (const e of store.follow({ signal: controller.signal, onCaughtUp: (h) => console.log("at", h) })) {
   *   console.log(e.seqNo, e.action.aggregate);
   * }
   */
  follow(options?: FollowOptions): AsyncIterable<StoredAction>;
  /** The highest seqNo, 0 when empty. */
  currentSeqNo(): Promise<number>;
  /** Every stored event that would conflict with an action on `aggregate` rebased on `offset`, ascending. */
  conflicts(offset: number, aggregate: Identity): Promise<StoredEvent[]>;
  /** The state of one aggregate (its patches folded from `{}`) and its last seqNo; `undefined` when it has none. */
  aggregate(identity: Identity): Promise<AggregateState | undefined>;
  /**
   * Ends the store and what it opened, once the calls already running have
   * finished (a stream or follow ends at its next page with
   * `StoreClosedError`); any later call rejects with `StoreClosedError`.
   * Every call of `close()` returns once the connections are closed. Do not
   * await it inside a call it waits for, such as a projection's `apply`.
   */
  close(): Promise<void>;
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** Renames the four relations; each name matches `^[A-Za-z_][A-Za-z0-9_]{0,62}$`. */
  readonly tables?: Partial<TableNames>;
  /** Input limits; see {@link Limits}. */
  readonly limits?: Partial<Limits>;
}
