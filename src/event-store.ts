import type { Backend, WriteTx } from "./backend.js";
import { signalCommit } from "./follow/commit-hub.js";
import { follow } from "./follow/follow.js";
import type { FollowOptions } from "./follow/follow-options.js";
import { channelOf } from "./follow/follow-steps.js";
import { applyPatchUnchecked } from "./model/apply-patch.js";
import { decodeEvent, encodeIdentity } from "./model/codec.js";
import { StoreClosedError } from "./model/errors.js";
import type {
  AggregateState,
  Identity,
  Json,
  Limits,
  NewEvent,
  RebaseOptions,
  RebaseResult,
  StoredAction,
  StoredEvent,
  StreamOptions,
} from "./model/types.js";
import { checkIdentity, checkPositive, checkRebaseArgs, checkStreamOptions } from "./model/validate.js";
import { rebase } from "./rebase.js";
import type { Store } from "./store.js";

/** Rows looked at per page of a stream: memory stays bounded by it. */
export const PAGE_SIZE = 2000;

/** The one implementation of {@link Store}: the rules, over a backend that answers small questions. */
export class EventStore implements Store {
  #closed = false;

  constructor(
    /** The port under the rules; read by extensions (the keystore), not part of the public API. */
    readonly backend: Backend,
    readonly limits: Limits,
  ) {}

  #open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  async initSchema(): Promise<void> {
    this.#open();
    await this.backend.initSchema();
  }

  async rebase(base: number, history: readonly NewEvent[], options?: RebaseOptions): Promise<RebaseResult> {
    this.#open();
    // The checked copies: a getter or Proxy of the caller is read once, by validation.
    const checked = checkRebaseArgs(base, history, options, this.limits);
    ({ options } = checked);
    const dry = options?.dry ?? false;
    const result = await rebase(this.backend, base, checked, options?.resolved ?? [], dry, options?.id);
    if (result.result === "ok" && !dry) signalCommit(channelOf(this.backend));
    return result;
  }

  /**
   * Internal (the keystore), not part of {@link Store}: a rebase whose write
   * transaction also runs `alongside` right after the append, all or nothing.
   */
  async rebaseAlongside(
    base: number,
    history: readonly NewEvent[],
    alongside: (tx: WriteTx) => Promise<void>,
  ): Promise<RebaseResult> {
    this.#open();
    const checked = checkRebaseArgs(base, history, undefined, this.limits);
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
    return { [Symbol.asyncIterator]: () => this.#stream(options) };
  }

  async *#stream(options: StreamOptions | undefined): AsyncGenerator<StoredAction> {
    this.#open();
    const { offset: given, aggregates, kinds } = checkStreamOptions(options);
    const filter = { aggregates: aggregates?.map(encodeIdentity), kinds };
    const offset = Math.max(given ?? 0, 1);
    // The head read first bounds both halves: one consistent snapshot of an append-only log.
    const head = await this.backend.head();
    if (offset > 1 && (await this.backend.hasEffects(offset, head))) {
      for (let after = 0, done = false; !done; ) {
        this.#open();
        const page = await this.backend.replayPage({ ...filter, offset, head, after, limit: PAGE_SIZE });
        for (const e of page.events) yield decodeEvent(e) as StoredAction;
        ({ last: after, done } = page);
      }
    }
    for (let after = offset - 1, done = after >= head; !done; ) {
      this.#open();
      const page = await this.backend.actionPage({ ...filter, after, until: head, limit: PAGE_SIZE });
      for (const e of page.events) yield decodeEvent(e) as StoredAction;
      ({ last: after, done } = page);
    }
  }

  async currentSeqNo(): Promise<number> {
    this.#open();
    return this.backend.head();
  }

  async conflicts(offset: number, aggregate: Identity): Promise<StoredEvent[]> {
    this.#open();
    checkPositive(offset, "offset");
    checkIdentity(aggregate, "aggregate");
    return (await this.backend.conflicts(offset, encodeIdentity(aggregate))).map(decodeEvent);
  }

  async aggregate(identity: Identity): Promise<AggregateState | undefined> {
    this.#open();
    checkIdentity(identity, "identity");
    let state: { [key: string]: Json } = {};
    let seqNo = 0;
    for await (const e of this.stream({ aggregates: [identity] })) {
      state = applyPatchUnchecked(state, e.action.patch);
      seqNo = e.seqNo;
    }
    return seqNo === 0 ? undefined : { state, seqNo };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.backend.close();
  }
}
