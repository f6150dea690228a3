import { type ActionPage, type Backend, UNBOUNDED, type WriteTx } from "./backend.js";
import { signalCommit } from "./follow/commit-hub.js";
import { follow } from "./follow/follow.js";
import type { FollowOptions } from "./follow/follow-options.js";
import { channelOf } from "./follow/follow-steps.js";
import { applyPatchUnchecked } from "./model/apply-patch.js";
import { decodeEvent, type EncodedIdentity, encodeIdentity } from "./model/codec.js";
import { StoreClosedError } from "./model/errors.js";
import type {
  AggregateState,
  Identity,
  Json,
  Limits,
  NewEvent,
  Patch,
  RebaseOptions,
  RebaseResult,
  StoredAction,
  StoredEvent,
  StreamOptions,
} from "./model/types.js";
import { checkPositive, checkRebaseArgs, checkStreamOptions, readIdentity } from "./model/validate.js";
import { pageLimit, readAhead } from "./read-ahead.js";
import { rebase } from "./rebase.js";
import { RunningCalls } from "./running-calls.js";
import type { Store } from "./store.js";

/** Rows looked at per page of a stream: memory stays bounded by it. */
export const PAGE_SIZE = 2000;

const noop = () => {};
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * What `stream()` iterates: the actions of successive pages, as an async
 * generator yielding each would, at one settled promise per action instead of
 * a generator's several and its suspended frame. Calls are answered in the
 * order they are made; after a failure, `return()` or `throw()` it is done.
 */
class ActionIterator implements AsyncIterableIterator<StoredAction> {
  #page: Iterator<StoredAction> | undefined;
  #done = false;
  /** Calls waiting for a page (or for an earlier call): while any is, every call waits its turn. */
  #waiting = 0;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(readonly pages: AsyncGenerator<Iterable<StoredAction>, void, undefined>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StoredAction>> {
    if (this.#waiting === 0) {
      const now = this.#fromPage();
      if (now !== undefined) return now;
    }
    return this.#inTurn(() => this.#advance());
  }

  return(): Promise<IteratorResult<StoredAction>> {
    return this.#inTurn(async () => {
      this.#finish();
      await this.pages.return(undefined);
      return DONE;
    });
  }

  throw(error?: unknown): Promise<IteratorResult<StoredAction>> {
    return this.#inTurn(async () => {
      this.#finish();
      await this.pages.return(undefined);
      throw error;
    });
  }

  #finish(): void {
    this.#done = true;
    this.#page = undefined;
  }

  /** The answer out of the current page, settled; undefined when there is no page or it is used up. */
  #fromPage(): Promise<IteratorResult<StoredAction>> | undefined {
    if (this.#done) return Promise.resolve(DONE);
    if (this.#page === undefined) return undefined;
    try {
      const r = this.#page.next();
      if (r.done !== true) return Promise.resolve(r);
    } catch (error) {
      this.#finish();
      void this.pages.return(undefined).catch(noop);
      return Promise.reject(error);
    }
    this.#page = undefined;
    return undefined;
  }

  async #advance(): Promise<IteratorResult<StoredAction>> {
    for (;;) {
      const now = this.#fromPage();
      if (now !== undefined) return now;
      let next: IteratorResult<Iterable<StoredAction>, void>;
      try {
        next = await this.pages.next();
      } catch (error) {
        this.#finish();
        throw error;
      }
      if (next.done === true) {
        this.#finish();
        return DONE;
      }
      this.#page = next.value[Symbol.iterator]();
    }
  }

  /** Runs `step` after every call made before it has been answered. */
  #inTurn<T>(step: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const run = this.#tail.then(step);
    const settled = () => {
      this.#waiting--;
    };
    this.#tail = run.then(settled, settled);
    return run;
  }
}

/** The one implementation of {@link Store}: the rules, over a backend that answers small questions. */
export class EventStore implements Store {
  #closed = false;
  /** What `close()` returns to every caller. */
  #closing: Promise<void> | undefined;
  /** The calls running now: `close()` lets them finish before it closes the connections. */
  readonly #running = new RunningCalls();

  constructor(
    /** The port under the rules; read by extensions (the keystore), not part of the public API. */
    readonly backend: Backend,
    readonly limits: Limits,
  ) {}

  #open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  /**
   * Internal (the rules, and extensions such as the keystore): runs a call
   * as one `close()` waits for, or rejects with `StoreClosedError` once the
   * store is closed. A rebase that found a conflict still reads the stored
   * event after its transaction, and a closed pool would turn that into a
   * connection error.
   */
  track<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreClosedError());
    return this.#running.run(call);
  }

  async initSchema(): Promise<void> {
    await this.track(() => this.backend.initSchema());
  }

  async rebase(base: number, history: readonly NewEvent[], options?: RebaseOptions): Promise<RebaseResult> {
    this.#open();
    // The checked copies: a getter or Proxy of the caller is read once, by validation.
    const checked = checkRebaseArgs(base, history, options, this.limits);
    ({ options } = checked);
    const dry = options?.dry ?? false;
    const { resolved = [], id } = options ?? {};
    const result = await this.track(() => rebase(this.backend, base, checked, resolved, dry, id));
    if (result.result === "ok" && !dry) signalCommit(channelOf(this.backend));
    return result;
  }

  /**
   * Internal (the keystore), not part of {@link Store}: a rebase whose write
   * transaction also runs `alongside` right after the append, all or nothing.
   * Called inside a {@link track}ed call, which checked that the store is open.
   */
  async rebaseAlongside(
    base: number,
    history: readonly NewEvent[],
    alongside: (tx: WriteTx) => Promise<void>,
    limits: Limits = this.limits,
  ): Promise<RebaseResult> {
    // The keystore's calls are tracked already: one running when close() is called goes on to its end.
    const checked = checkRebaseArgs(base, history, undefined, limits);
    const result = await rebase(this.backend, base, checked, [], false, undefined, alongside);
    if (result.result === "ok") signalCommit(channelOf(this.backend));
    return result;
  }

  /** Internal (extensions such as the keystore): throws `StoreClosedError` once the store is closed. */
  assertOpen(): void {
    this.#open();
  }

  follow(options?: FollowOptions): AsyncIterable<StoredAction> {
    return { [Symbol.asyncIterator]: () => follow(this.backend, options, PAGE_SIZE, () => this.#open()) };
  }

  stream(options?: StreamOptions): AsyncIterable<StoredAction> {
    return { [Symbol.asyncIterator]: () => new ActionIterator(this.#pages(options)) };
  }

  /** The pages of a stream, each an iterable of its actions. */
  async *#pages(options: StreamOptions | undefined): AsyncGenerator<Iterable<StoredAction>, void, undefined> {
    this.#open();
    const { offset: given, aggregates, kinds } = checkStreamOptions(options);
    const filter = { aggregates: aggregates?.map(encodeIdentity), kinds };
    const offset = Math.max(given ?? 0, 1);
    const open = () => this.#open();
    const limit = pageLimit(this.backend, PAGE_SIZE);
    const ahead = this.backend.readsAhead === true;
    let head: number | undefined;
    if (offset > 1) {
      // The head read first bounds both halves: one consistent snapshot of an append-only log.
      const { head: bound, effects } = await this.backend.headAndEffects(offset);
      head = bound;
      if (effects) {
        const read = (after: number) => this.backend.replayPage({ ...filter, offset, head: bound, after, limit });
        for await (const page of readAhead(read, 0, open, ahead)) yield page.actions;
      }
      if (offset - 1 >= bound) return;
    }
    // From the start there is no replay half, and the first page needs no head: read UNBOUNDED, it is
    // a snapshot of its own, the whole stream when it is short (one round trip); the head read after
    // it, while the caller works through it, bounds the rest.
    const read = async (after: number): Promise<ActionPage> => {
      if (head === undefined) {
        if (after === offset - 1) return this.backend.actionPage({ ...filter, after, until: UNBOUNDED, limit });
        head = await this.backend.head();
      }
      if (after >= head) return { actions: [], last: after, done: true };
      return this.backend.actionPage({ ...filter, after, until: head, limit });
    };
    for await (const page of readAhead(read, offset - 1, open, ahead)) yield page.actions;
  }

  async currentSeqNo(): Promise<number> {
    return this.track(() => this.backend.head());
  }

  async conflicts(offset: number, aggregate: Identity): Promise<StoredEvent[]> {
    this.#open();
    checkPositive(offset, "offset");
    const encoded = encodeIdentity(readIdentity(aggregate, "aggregate"));
    return (await this.track(() => this.backend.conflicts(offset, encoded))).map(decodeEvent);
  }

  async aggregate(identity: Identity): Promise<AggregateState | undefined> {
    this.#open();
    const encoded = encodeIdentity(readIdentity(identity, "identity"));
    return this.track(() => this.#aggregate(encoded));
  }

  async #aggregate(aggregate: EncodedIdentity): Promise<AggregateState | undefined> {
    let state: { [key: string]: Json } = {};
    let seqNo = 0;
    // The first page is read without a bound: one statement, one consistent snapshot, and for
    // an aggregate of fewer than a page of actions the only round trip. A longer one is bounded
    // by the head read after that page: seqNos are gapless and in commit order, so the first
    // page holds every action of the aggregate up to its last, and the pages up to the head
    // complete the snapshot as of the head.
    let until = Number.MAX_SAFE_INTEGER;
    // Tracked: close() waits for the last page.
    for (let after = 0, done = false; !done; ) {
      const page = await this.backend.patchPage(aggregate, after, until, PAGE_SIZE);
      for (const [s, patch] of page.patches) {
        state = applyPatchUnchecked(state, JSON.parse(patch) as Patch);
        seqNo = s;
      }
      ({ last: after, done } = page);
      if (!done && until === Number.MAX_SAFE_INTEGER) until = await this.backend.head();
    }
    return seqNo === 0 ? undefined : { state, seqNo };
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      await this.#running.settled();
      await this.backend.close();
    })();
    return this.#closing;
  }
}
