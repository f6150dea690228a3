import { deepStrictEqual } from "node:assert/strict";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Identity,
  type NewEvent,
  type StoredAction,
  type StoredEvent,
  type StreamOptions,
  ValidationError,
} from "../../src/index.js";
import { type StoreFactory, storeFactories } from "../stores.js";
import { act, collect, eff } from "../support/events.js";
import { mutate, mutation } from "./hostile.js";
import { history, identity, kind } from "./valid-args.js";

const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const key = ([k, id]: Identity) => `${k}\u0000${JSON.stringify(id)}`;

/** SPEC section 3, written out plainly over every stored event: what `stream(options)` must yield. */
function reference(events: readonly StoredEvent[], options: StreamOptions = {}): StoredAction[] {
  const offset = Math.max(options.offset ?? 0, 1);
  const aggregates = options.aggregates && new Set(options.aggregates.map(key));
  const kinds = options.kinds && new Set(options.kinds);
  const actions = events.filter((e): e is StoredAction => "action" in e);
  const expired = new Set(
    events
      .filter((e) => "effect" in e && e.seqNo >= offset)
      .map((e) => key((e as { effect: { trigger: Identity } }).effect.trigger)),
  );
  const replayed = new Set(
    actions.filter((a) => a.triggers?.some((t) => expired.has(key(t)))).map((a) => key(a.action.aggregate)),
  );
  return actions.filter(
    (a) =>
      (a.seqNo >= offset || replayed.has(key(a.action.aggregate))) &&
      (aggregates === undefined || aggregates.has(key(a.action.aggregate))) &&
      (kinds === undefined || kinds.has(a.action.aggregate[0])),
  );
}

/** A store with replays to find: aggregates whose ids differ only in type, triggers and their effects. */
function dataset(): NewEvent[][] {
  const k1: Identity = ["key", 1];
  const k2: Identity = ["key", "1"];
  const fixed: NewEvent[][] = [
    [
      act(["book", 1], { assoc: { a: 1 } }, { triggers: [k1] }),
      act(["book", "1"], { assoc: { b: -0 } }, { triggers: [k2] }),
    ],
    [
      act(["user", 0], { dissoc: ["x"] }),
      act(["book", 1], {
        assoc: [
          [
            ["a", "b"],
            [1, "2", null],
          ],
        ],
      }),
    ],
    [eff(k1)],
    [act(["book", "1"], { assoc: { c: true } }), eff(k2), act(["user", 0], { assoc: { d: {} } }, { triggers: [k1] })],
  ];
  return [...fixed, ...(fc.sample(history, { seed: 4, numRuns: 12 }) as unknown as NewEvent[][]), [eff(k1)]];
}

/**
 * SPEC sections 3 and 5 under fuzzing: `stream` with any options, valid or
 * hostile, either yields exactly what SPEC section 3 says, or rejects with a
 * `ValidationError` at the latest on the first iteration. Never another error.
 */
function fuzzStream(factory: StoreFactory): void {
  describe(`fuzz stream: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("every call yields exactly what SPEC section 3 says, or throws ValidationError", async () => {
      const store = await factory.create();
      const events: StoredEvent[] = [];
      for (const h of dataset()) {
        const r = await store.rebase((await store.currentSeqNo()) + 1, h);
        expect(r.result).toBe("ok");
        if (r.result === "ok") events.push(...r.events);
      }
      const head = events.length;
      const known = [...new Set(events.flatMap((e) => ("action" in e ? [e.action.aggregate] : [])))];
      const someIdentity = fc.oneof(fc.constantFrom(...known), identity);
      const options = fc.record(
        {
          offset: fc.nat({ max: head + 2 }),
          aggregates: fc.array(someIdentity, { minLength: 1, maxLength: 3 }),
          kinds: fc.array(fc.oneof(fc.constantFrom(...known.map((a) => a[0])), kind), { minLength: 1, maxLength: 3 }),
        },
        { requiredKeys: [] },
      );
      const tally = { read: 0, rejected: 0 };
      await fc.assert(
        fc.asyncProperty(options, mutation, async (clean, m) => {
          const { actual, expected, outcome, where } = mutate([clean], m);
          let got: StoredAction[];
          try {
            got = await collect(store.stream(actual[0]));
          } catch (error) {
            if (!(error instanceof ValidationError)) {
              throw new Error(`${where}: expected a ValidationError, got ${String(error)}`, { cause: error });
            }
            expect(outcome, `${where}: ${error.message}`).not.toBe("accept");
            tally.rejected++;
            return;
          }
          expect(outcome, `${where}: accepted`).not.toBe("reject");
          deepStrictEqual(got, reference(events, expected[0] as StreamOptions), where);
          tally.read++;
        }),
        { numRuns: NUM_RUNS },
      );
      expect(await store.currentSeqNo()).toBe(head);
      expect(tally.read).toBeGreaterThan(NUM_RUNS / 10);
      expect(tally.rejected).toBeGreaterThan(NUM_RUNS / 10);
      console.info(`fuzz stream ${factory.name}: ${JSON.stringify(tally)} of ${NUM_RUNS} runs`);
    });
  });
}

for (const factory of storeFactories()) fuzzStream(factory);
