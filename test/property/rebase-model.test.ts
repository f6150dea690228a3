import { deepStrictEqual } from "node:assert/strict";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Identity,
  type NewAction,
  type NewEvent,
  type RebaseResult,
  type Store,
  type StoredAction,
  type StoredEvent,
  ValidationError,
} from "../../src/index.js";
import { storeFactories } from "../stores.js";
import { collect } from "../support/events.js";
import { stored } from "../support/store-state.js";

/**
 * A small model of SPEC sections 2 and 3, written from the text and nothing
 * else: the store is a list of events; the conflict rule and the replay rule
 * are read off the list directly.
 */
class Model {
  readonly events: StoredEvent[] = [];

  static same(a: Identity, b: Identity): boolean {
    return a[0] === b[0] && a[1] === b[1];
  }

  actions(): StoredAction[] {
    return this.events.filter((e): e is StoredAction => "action" in e);
  }

  /** Rule 3: every stored event that conflicts with an action on `aggregate` rebased on `base`. */
  conflicts(base: number, aggregate: Identity, resolved: readonly number[] = []): StoredEvent[] {
    const triggers = this.actions()
      .filter((a) => Model.same(a.action.aggregate, aggregate))
      .flatMap((a) => a.triggers ?? []);
    return this.events.filter(
      (e) =>
        e.seqNo >= base &&
        !resolved.includes(e.seqNo) &&
        ("action" in e
          ? Model.same(e.action.aggregate, aggregate)
          : triggers.some((t) => Model.same(t, e.effect.trigger))),
    );
  }

  rebase(base: number, history: readonly NewEvent[], resolved: readonly number[], dry: boolean): RebaseResult {
    const next = this.events.length + 1;
    if (base > next) return { result: "invalid-seq-no", nextSeqNo: next };
    const numbered = history.map((e, i) => stored(e, next + i));
    for (const [i, ours] of numbered.entries()) {
      if (!("action" in ours)) continue;
      const [theirs] = this.conflicts(base, ours.action.aggregate, resolved);
      if (theirs) return { result: "conflict", events: numbered.slice(0, i), conflict: { ours, theirs } };
    }
    if (!dry) this.events.push(...numbered);
    return { result: "ok", events: numbered };
  }

  stream(offset: number, aggregates?: readonly Identity[], kinds?: readonly string[]): StoredAction[] {
    const from = Math.max(offset, 1);
    const expired = this.events.flatMap((e) => ("effect" in e && e.seqNo >= from ? [e.effect.trigger] : []));
    const actions = this.actions();
    const replayed = (aggregate: Identity) =>
      actions.some(
        (b) =>
          Model.same(b.action.aggregate, aggregate) &&
          (b.triggers ?? []).some((t) => expired.some((x) => Model.same(x, t))),
      );
    return actions.filter(
      (a) =>
        (aggregates === undefined || aggregates.some((x) => Model.same(x, a.action.aggregate))) &&
        (kinds === undefined || kinds.includes(a.action.aggregate[0])) &&
        (a.seqNo >= from || replayed(a.action.aggregate)),
    );
  }

  /** The patches here are `{ assoc: { n } }`: the state is the last `n`. */
  aggregate(identity: Identity): { state: { n: number }; seqNo: number } | undefined {
    const mine = this.actions().filter((a) => Model.same(a.action.aggregate, identity));
    const last = mine.at(-1);
    if (!last) return undefined;
    const { assoc } = last.action.patch as { assoc: { n: number } };
    return { state: { n: assoc.n }, seqNo: last.seqNo };
  }
}

const AGGREGATES: Identity[] = [
  ["book", 1],
  ["book", "1"],
  ["book", 2],
  ["author", 1],
];
const TRIGGERS: Identity[] = [
  ["key", 1],
  ["key", "1"],
  ["key", 2],
];
const KINDS = ["book", "author", "key"];

const timestamp = fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms));

const action: fc.Arbitrary<NewEvent> = fc
  .record({
    timestamp,
    aggregate: fc.constantFrom(...AGGREGATES),
    n: fc.integer(),
    triggers: fc.option(fc.shuffledSubarray(TRIGGERS, { minLength: 1 }), { nil: undefined }),
  })
  .map(({ timestamp, aggregate, n, triggers }) => {
    const event: NewAction = {
      timestamp,
      source: "model",
      action: { reason: "set", actor: ["user", Math.abs(n % 3)], aggregate, patch: { assoc: { n } } },
    };
    return triggers ? { ...event, triggers } : event;
  });

const effect: fc.Arbitrary<NewEvent> = fc
  .record({ timestamp, trigger: fc.constantFrom(...TRIGGERS) })
  .map(({ timestamp, trigger }) => ({ timestamp, source: "keystore", effect: { reason: "key-expired", trigger } }));

const command = fc.record({
  history: fc.array(fc.oneof({ arbitrary: action, weight: 3 }, { arbitrary: effect, weight: 1 }), {
    minLength: 1,
    maxLength: 4,
  }),
  base: fc.oneof(fc.constant("next" as const), fc.constant("stale" as const), fc.constant("too-high" as const)),
  pick: fc.nat(),
  resolved: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 4 }),
  dry: fc.boolean(),
});

interface Read {
  readonly offset: number;
  readonly aggregates: Identity[] | undefined;
  readonly kinds: string[] | undefined;
}

const read: fc.Arbitrary<Read> = fc.record({
  offset: fc.nat({ max: 35 }),
  aggregates: fc.option(fc.subarray(AGGREGATES, { minLength: 1 }), { nil: undefined }),
  kinds: fc.option(fc.subarray(KINDS, { minLength: 1 }), { nil: undefined }),
});

function baseFor(kind: "next" | "stale" | "too-high", pick: number, next: number): number {
  if (kind === "next") return next;
  if (kind === "stale") return 1 + (pick % next);
  return next + 1 + (pick % 3);
}

/** Hostile but well-formed characters, and a few that must be rejected. */
const unit = fc.oneof(
  { arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), weight: 4 },
  { arbitrary: fc.constantFrom("é", "😀", "𝄞", "\u2028", "\uFEFF", "\u0001", '"', "\\", "\n", "e\u0301"), weight: 4 },
  { arbitrary: fc.constantFrom("\u0000", "\uD800", "\uDFFF"), weight: 1 },
);
const text = fc.string({ unit, maxLength: 12 });
const key = fc.oneof(
  { arbitrary: text, weight: 8 },
  { arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "prototype", ""), weight: 1 },
);
/** JSON values whose objects may carry an own `__proto__` key (a plain literal would set the prototype). */
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.maxSafeInteger(),
    text,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((entries) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries)
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      return out;
    }),
  ),
})).value;

function clean(s: string): boolean {
  return s.isWellFormed() && !s.includes("\u0000");
}

/** True when the SPEC accepts the value: clean strings and keys, no `__proto__` key. */
function acceptable(value: unknown): boolean {
  if (typeof value === "string") return clean(value);
  if (Array.isArray(value)) return value.every(acceptable);
  if (typeof value === "object" && value !== null) {
    return Object.keys(value).every(
      (k) => k !== "__proto__" && clean(k) && acceptable((value as Record<string, unknown>)[k]),
    );
  }
  return true;
}

/** What JSON gives back: `-0` reads back as `0`. */
function normalized(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalized);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: normalized(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

for (const factory of storeFactories()) {
  describe(`store: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("random rebases (stale, current and too-high bases, resolved lists, dry runs) give the model's results and history", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(command, { minLength: 1, maxLength: 10 }),
          fc.array(read, { minLength: 1, maxLength: 4 }),
          async (commands, reads) => {
            const store = await factory.create();
            try {
              const model = new Model();
              for (const { history, base: kind, pick, resolved, dry } of commands) {
                const base = baseFor(kind, pick, model.events.length + 1);
                const want = model.rebase(base, history, resolved, dry);
                const got = await store.rebase(base, history, { resolved, dry });
                deepStrictEqual(got, want);
              }
              await compare(store, model, reads);
            } finally {
              await store.close();
            }
          },
        ),
        { numRuns: 50 },
      );
    });

    it("random JSON values, keys, kinds and ids round-trip exactly, or are rejected with nothing written", async () => {
      let store: Store | undefined;
      await fc.assert(
        fc.asyncProperty(
          json,
          fc.record({
            kind: fc.string({ unit, minLength: 1, maxLength: 20 }),
            id: fc.oneof(
              text.filter((s) => s !== ""),
              fc.maxSafeInteger(),
            ),
          }),
          key,
          fc.boolean(),
          timestamp,
          async (value, { kind, id }, field, pairs, when) => {
            // One store for every run: each run appends at the head and reads from there.
            store ??= await factory.create();
            const aggregate: Identity = [kind, id];
            const patch = pairs
              ? { assoc: [[[field, "v"], value]] }
              : {
                  assoc: Object.defineProperty({}, field, {
                    value,
                    enumerable: true,
                    writable: true,
                    configurable: true,
                  }),
                };
            const event = {
              timestamp: when,
              source: kind,
              action: { reason: kind, actor: aggregate, aggregate, patch },
              triggers: [aggregate],
            } as NewEvent;
            const ok = acceptable(value) && clean(field) && field !== "__proto__" && clean(kind) && acceptable(id);
            const seqNo = (await store.currentSeqNo()) + 1;
            if (!ok) {
              await expect(store.rebase(seqNo, [event])).rejects.toBeInstanceOf(ValidationError);
              expect(await store.currentSeqNo()).toBe(seqNo - 1);
              return;
            }
            const expected = { ...(normalized(event) as NewEvent), timestamp: when, seqNo };
            deepStrictEqual(await store.rebase(seqNo, [event]), { result: "ok", events: [expected] });
            deepStrictEqual(await collect(store.stream({ offset: seqNo })), [expected]);
            const filtered = await collect(store.stream({ aggregates: [aggregate], kinds: [kind] }));
            deepStrictEqual(filtered.at(-1), expected);
            deepStrictEqual(await store.conflicts(seqNo, aggregate), [expected]);
          },
        ),
        { numRuns: 100 },
      );
      await store?.close();
    });
  });
}

/** The store and the model agree on everything a reader can ask. */
async function compare(store: Store, model: Model, reads: readonly Read[]): Promise<void> {
  expect(await store.currentSeqNo()).toBe(model.events.length);
  deepStrictEqual(await collect(store.stream({ offset: 0 })), model.stream(0));
  for (const { offset, aggregates, kinds } of reads) {
    deepStrictEqual(
      await collect(store.stream({ offset, aggregates, kinds })),
      model.stream(offset, aggregates, kinds),
    );
  }
  for (const aggregate of AGGREGATES) {
    deepStrictEqual(await store.aggregate(aggregate), model.aggregate(aggregate));
    const offset = 1 + (reads[0]?.offset ?? 0);
    deepStrictEqual(await store.conflicts(offset, aggregate), model.conflicts(offset, aggregate));
  }
}
