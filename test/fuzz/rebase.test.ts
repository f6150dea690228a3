import { deepStrictEqual } from "node:assert/strict";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type NewEvent,
  type RebaseResult,
  type StoredAction,
  type StoredEvent,
  ValidationError,
} from "../../src/index.js";
import { type StoreFactory, storeFactories } from "../stores.js";
import { collect } from "../support/events.js";
import { mutate, mutation } from "./hostile.js";
import { history } from "./valid-args.js";

/** Runs per store: enough to hit every kind of mutation many times, in seconds. */
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 300);

type Args = [base: unknown, history: unknown, options: unknown];

function isAction(e: StoredEvent): e is StoredAction {
  return "action" in e;
}

/**
 * SPEC sections 1, 2 and 5 under fuzzing: `rebase` with any arguments, valid
 * or hostile, either succeeds and what it stored reads back exactly (value for
 * value, type for type, -0 as 0), or rejects with a `ValidationError` having
 * written nothing. Never another error, never a partial write.
 */
function fuzzRebase(factory: StoreFactory): void {
  describe(`fuzz rebase: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("every call succeeds with an exact round trip, or throws ValidationError and writes nothing", async () => {
      const store = await factory.create();
      // Every action the store must hold, in order: checked against the whole stream at the end.
      const model: StoredAction[] = [];
      let run = 0;
      const tally = { written: 0, rejected: 0, other: 0 };
      await fc.assert(
        fc.asyncProperty(history, mutation, fc.constantFrom(0, 0, 0, 1, -1), async (events, m, shift) => {
          const head = await store.currentSeqNo();
          const base = shift === -1 ? 1 : head + 1 + shift;
          const clean: Args = [base, events, { id: `fuzz-${factory.name}-${++run}` }];
          // The history is stored and read back; the base and options are not.
          const { actual, expected, outcome, where } = mutate(clean, m, [1]);
          const [, wantHistory, wantOptions] = expected as [number, NewEvent[], { id?: string; dry?: boolean }];

          let result: RebaseResult;
          try {
            const pending = store.rebase(...(actual as Parameters<typeof store.rebase>));
            expect(pending).toBeInstanceOf(Promise);
            result = await pending;
          } catch (error) {
            if (!(error instanceof ValidationError)) {
              throw new Error(`${where}: expected a ValidationError, got ${String(error)}`, { cause: error });
            }
            expect(outcome, `${where}: ${error.message}`).not.toBe("accept");
            expect(await store.currentSeqNo(), `${where}: nothing written`).toBe(head);
            tally.rejected++;
            return;
          }
          expect(outcome, `${where}: accepted`).not.toBe("reject");
          if (result.result !== "ok") {
            expect(["conflict", "invalid-seq-no"], where).toContain(result.result);
            expect(await store.currentSeqNo()).toBe(head);
            tally.other++;
            return;
          }
          const want = wantHistory.map((e, i) => ({ ...e, seqNo: head + 1 + i }) as StoredEvent);
          deepStrictEqual(result.events, want, `${where}: the result holds the events as given`);
          if (wantOptions?.dry === true) {
            expect(await store.currentSeqNo()).toBe(head);
            return;
          }
          expect(await store.currentSeqNo()).toBe(head + want.length);
          // Read back from the database: the actions by stream, every event by a retry of the id.
          const actions = (await collect(store.stream({ offset: head + 1 }))).filter((e) => e.seqNo > head);
          deepStrictEqual(actions, want.filter(isAction), `${where}: the actions read back exactly`);
          model.push(...want.filter(isAction));
          tally.written++;
          if (typeof wantOptions?.id === "string") {
            const retry = await store.rebase(head + 1, wantHistory, { id: wantOptions.id });
            deepStrictEqual(retry, { result: "ok", events: want }, `${where}: every event reads back exactly`);
            expect(await store.currentSeqNo()).toBe(head + want.length);
          }
        }),
        { numRuns: NUM_RUNS },
      );
      deepStrictEqual(await collect(store.stream()), model, "the store holds exactly what was accepted");
      // Both halves of the property were exercised.
      expect(tally.written).toBeGreaterThan(NUM_RUNS / 10);
      expect(tally.rejected).toBeGreaterThan(NUM_RUNS / 10);
      console.info(`fuzz rebase ${factory.name}: ${JSON.stringify(tally)} of ${NUM_RUNS} runs`);
    });
  });
}

for (const factory of storeFactories()) fuzzRebase(factory);
