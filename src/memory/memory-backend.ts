import type {
  ActionPage,
  ActionPageQuery,
  Backend,
  HeadAndEffects,
  PatchPage,
  RebaseRecord,
  ReplayPageQuery,
  WriteTx,
} from "../backend.js";
import { decodeEvent, type EncodedEvent, type EncodedIdentity } from "../model/codec.js";
import type { StoredAction } from "../model/types.js";
import { Mutex } from "../mutex.js";

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

/** The first seqNo of an ascending list that is `>= from` and not skipped. */
function firstFrom(list: readonly number[] | undefined, from: number, skip: ReadonlySet<number>): number | undefined {
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < list.length; i++) if (!skip.has(list[i] as number)) return list[i];
  return undefined;
}

/**
 * The in-process store: the reference implementation of the rules' questions,
 * on indexes kept in maps. It keeps events in the same row form as the SQL
 * stores, so values round-trip alike.
 */
/** The actions of a page as a caller sees them, each decoded when the iteration reaches it. */
function decoded(events: readonly EncodedEvent[]): Iterable<StoredAction> {
  return {
    *[Symbol.iterator]() {
      for (const e of events) yield decodeEvent(e) as StoredAction;
    },
  };
}

export class MemoryBackend implements Backend {
  readonly #events: EncodedEvent[] = [];
  readonly #actionsOf = new Map<string, number[]>();
  readonly #triggersOf = new Map<string, Set<string>>();
  readonly #aggregatesOf = new Map<string, Set<string>>();
  readonly #effectsOn = new Map<string, number[]>();
  readonly #rebases = new Map<string, RebaseRecord>();
  readonly #lock = new Mutex();

  async initSchema(): Promise<void> {}

  async write<T>(fn: (tx: WriteTx) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    return this.#lock.run(async () => {
      let pending: readonly EncodedEvent[] = [];
      let record: RebaseRecord | undefined;
      const tx: WriteTx = {
        nextSeqNo: async () => this.#events.length + 1,
        firstConflicts: async (base, aggregates, resolved) => this.#firstConflicts(base, aggregates, new Set(resolved)),
        readEvents: async (seqNos) => seqNos.map((s) => this.#events[s - 1]).filter((e) => e !== undefined),
        append: async (events, rebase) => {
          pending = events;
          record = rebase;
        },
        findRebase: async (id) => this.#rebases.get(id),
      };
      const result = await fn(tx);
      if (commit(result)) {
        for (const e of pending) this.#index(e);
        if (record) this.#rebases.set(record.id, record);
      }
      return result;
    });
  }

  #index(e: EncodedEvent): void {
    this.#events.push(e);
    if (e.action) {
      const aggregate = e.action.aggregate.key;
      push(this.#actionsOf, aggregate, e.seqNo);
      for (const t of e.action.triggers) {
        add(this.#triggersOf, aggregate, t.key);
        add(this.#aggregatesOf, t.key, aggregate);
      }
    } else if (e.effect) {
      push(this.#effectsOn, e.effect.trigger.key, e.seqNo);
    }
  }

  #firstConflicts(
    base: number,
    aggregates: readonly EncodedIdentity[],
    skip: ReadonlySet<number>,
  ): Map<string, number> {
    const out = new Map<string, number>();
    for (const { key } of aggregates) {
      let first = firstFrom(this.#actionsOf.get(key), base, skip);
      for (const trigger of this.#triggersOf.get(key) ?? []) {
        const s = firstFrom(this.#effectsOn.get(trigger), base, skip);
        if (s !== undefined && (first === undefined || s < first)) first = s;
      }
      if (first !== undefined) out.set(key, first);
    }
    return out;
  }

  async readEvents(seqNos: readonly number[]): Promise<EncodedEvent[]> {
    return seqNos.map((s) => this.#events[s - 1]).filter((e) => e !== undefined);
  }

  async head(): Promise<number> {
    return this.#events.length;
  }

  #page(after: number, until: number, limit: number, keep: (e: EncodedEvent) => boolean): ActionPage {
    const events: EncodedEvent[] = [];
    // An UNBOUNDED page ends at the head: this snapshot's.
    const end = Math.min(until, this.#events.length);
    let s = after;
    while (s < end && events.length < limit) {
      s++;
      const e = this.#events[s - 1] as EncodedEvent;
      if (keep(e)) events.push(e);
    }
    return { actions: decoded(events), last: s, done: s >= end };
  }

  #filter(query: ActionPageQuery | ReplayPageQuery): (e: EncodedEvent) => boolean {
    const keys = query.aggregates && new Set(query.aggregates.map((a) => a.key));
    const kinds = query.kinds && new Set(query.kinds);
    return (e) =>
      e.action !== undefined &&
      (keys === undefined || keys.has(e.action.aggregate.key)) &&
      (kinds === undefined || kinds.has(e.action.aggregate.kind));
  }

  async actionPage(query: ActionPageQuery): Promise<ActionPage> {
    return this.#page(query.after, query.until, query.limit, this.#filter(query));
  }

  async headAndEffects(from: number): Promise<HeadAndEffects> {
    const head = this.#events.length;
    for (let s = Math.max(from, 1); s <= head; s++) if (this.#events[s - 1]?.effect) return { head, effects: true };
    return { head, effects: false };
  }

  /** Whether an action of `aggregate` up to `head` carries `trigger`: what a snapshot at `head` holds. */
  #carried(aggregate: string, trigger: string, head: number): boolean {
    for (const s of this.#actionsOf.get(aggregate) ?? []) {
      if (s > head) return false;
      if (this.#events[s - 1]?.action?.triggers.some((t) => t.key === trigger)) return true;
    }
    return false;
  }

  async replayPage(query: ReplayPageQuery): Promise<ActionPage> {
    const replayed = new Set<string>();
    for (let s = query.offset; s <= query.head; s++) {
      const trigger = this.#events[s - 1]?.effect?.trigger.key;
      if (!trigger) continue;
      for (const a of this.#aggregatesOf.get(trigger) ?? []) if (this.#carried(a, trigger, query.head)) replayed.add(a);
    }
    const keep = this.#filter(query);
    return this.#page(
      query.after,
      query.offset - 1,
      query.limit,
      (e) => keep(e) && replayed.has(e.action?.aggregate.key ?? ""),
    );
  }

  async conflicts(offset: number, aggregate: EncodedIdentity): Promise<EncodedEvent[]> {
    const seqNos = (this.#actionsOf.get(aggregate.key) ?? []).filter((s) => s >= offset);
    for (const trigger of this.#triggersOf.get(aggregate.key) ?? []) {
      for (const s of this.#effectsOn.get(trigger) ?? []) if (s >= offset) seqNos.push(s);
    }
    return [...new Set(seqNos)].sort((a, b) => a - b).map((s) => this.#events[s - 1] as EncodedEvent);
  }

  async patchPage(aggregate: EncodedIdentity, after: number, until: number, limit: number): Promise<PatchPage> {
    const patches: [number, string][] = [];
    for (const s of this.#actionsOf.get(aggregate.key) ?? []) {
      if (s <= after || s > until) continue;
      if (patches.length >= limit) return { patches, last: patches[patches.length - 1]?.[0] ?? after, done: false };
      const action = (this.#events[s - 1] as EncodedEvent).action;
      if (action) patches.push([s, action.patch]);
    }
    return { patches, last: until, done: true };
  }

  async close(): Promise<void> {}
}
