import { deepStrictEqual, strictEqual } from "node:assert/strict";
import fc from "fast-check";
import { describe, it } from "vitest";
import { decodeEvent, encodeEvent, storedEvent } from "../../src/model/codec.js";
import { ValidationError } from "../../src/model/errors.js";
import { DEFAULT_LIMITS, type NewEvent } from "../../src/model/types.js";
import { checkRebaseArgs } from "../../src/model/validate.js";
import { newAction, newEffect } from "../fuzz/valid-args.js";

/** True when validation takes the event, whatever its size. */
function valid(e: unknown): boolean {
  try {
    checkRebaseArgs(1, [e], undefined, { ...DEFAULT_LIMITS, eventBytes: Number.POSITIVE_INFINITY });
    return true;
  } catch {
    return false;
  }
}

const event = fc.oneof(newAction, newEffect).filter(valid);

const T0 = new Date(0);
const small = {
  timestamp: T0,
  source: "s",
  action: { reason: "r", actor: ["u", 1], aggregate: ["a", 1], patch: { assoc: { a: 1 } } },
};
const LONG = ["x".repeat(3000), "\u0001".repeat(3000), '"'.repeat(3000), "😀".repeat(1500), "é".repeat(3000)];
const LONG_KINDS = ['"'.repeat(200), "\u0001".repeat(200), "😀".repeat(100), "é".repeat(200)];

/** Events whose size lies outside the patch, in one field each: triggers, an id or a kind. */
const wideAction = fc.oneof(
  fc
    .uniqueArray(fc.tuple(fc.constantFrom("t", "\u0001"), fc.nat()), {
      minLength: 150,
      maxLength: 300,
      selector: (t) => t.join(),
    })
    .map((triggers) => ({ ...small, triggers })),
  fc.tuple(fc.constantFrom(...LONG), fc.boolean()).map(([id, onActor]) => {
    const action = onActor ? { ...small.action, actor: ["u", id] } : { ...small.action, aggregate: ["a", id] };
    return { ...small, action };
  }),
  fc.tuple(fc.constantFrom(...LONG_KINDS), fc.constantFrom("source", "reason", "actor", "aggregate")).map(([k, at]) => {
    if (at === "source") return { ...small, source: k };
    if (at === "reason") return { ...small, action: { ...small.action, reason: k } };
    return { ...small, action: { ...small.action, [at]: [k, 1] } };
  }),
  fc.tuple(fc.constantFrom(...LONG, ...LONG_KINDS), fc.boolean()).map(([text, isId]) => ({
    timestamp: T0,
    source: "s",
    effect: isId ? { reason: "r", trigger: ["t", text] } : { reason: text.slice(0, 200), trigger: ["t", 1] },
  })),
);

/** UTF-8 bytes of the event's JSON: what `limits.eventBytes` bounds (SPEC section 5). */
function bytesOf(e: unknown): number {
  return Buffer.byteLength(JSON.stringify(e), "utf8");
}

function tooLarge(e: unknown, eventBytes: number): boolean {
  try {
    checkRebaseArgs(1, [e], undefined, { ...DEFAULT_LIMITS, eventBytes });
    return false;
  } catch (error) {
    if (error instanceof ValidationError && error.code === "too-large") return true;
    throw error;
  }
}

describe("validation measures an event's JSON for limits.eventBytes", () => {
  it("too large exactly when its UTF-8 JSON exceeds the limit, whatever part is large", () => {
    fc.assert(
      fc.property(fc.oneof(event, wideAction), fc.integer({ min: -3, max: 3 }), (e, delta) => {
        const limit = Math.max(1, bytesOf(e) + delta);
        strictEqual(tooLarge(e, limit), bytesOf(e) > limit);
      }),
      { numRuns: 2000 },
    );
  });

  it("returns each action's patch as JSON for encoding, undefined for an effect", () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 4 }), (history) => {
        const { history: copies, patches } = checkRebaseArgs(1, history, undefined, DEFAULT_LIMITS);
        copies.forEach((e, i) => {
          strictEqual(patches[i], "action" in e ? JSON.stringify(e.action.patch) : undefined);
        });
      }),
    );
  });
});

describe("storedEvent: the stored form of a validated event without a JSON round trip", () => {
  it("deepStrictEqual to decoding its encoding (-0 as 0, undefined keys absent)", () => {
    fc.assert(
      fc.property(event, fc.nat({ max: 2 ** 40 }), (e, seqNo) => {
        const { history, patches } = checkRebaseArgs(1, [e], undefined, DEFAULT_LIMITS);
        const copy = history[0] as NewEvent;
        const decoded = decodeEvent(encodeEvent(copy, seqNo, patches[0]));
        deepStrictEqual(storedEvent(copy, seqNo), decoded);
      }),
    );
  });

  it("drops a patch key or an event key whose value is undefined", () => {
    const e = {
      timestamp: new Date(5),
      source: "s",
      triggers: undefined,
      action: { reason: "r", actor: ["u", -0], aggregate: ["a", 1], patch: { dissoc: ["x"], assoc: undefined } },
    };
    const { history } = checkRebaseArgs(1, [e], undefined, DEFAULT_LIMITS);
    const stored = storedEvent(history[0] as NewEvent, 7);
    deepStrictEqual(stored, {
      seqNo: 7,
      timestamp: new Date(5),
      source: "s",
      action: { reason: "r", actor: ["u", 0], aggregate: ["a", 1], patch: { dissoc: ["x"] } },
    });
    deepStrictEqual(Object.keys(stored), ["seqNo", "timestamp", "source", "action"]);
  });
});
