import { deepStrictEqual } from "node:assert/strict";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEvent, type EncodedEvent, encodeEvent } from "../src/model/codec.js";
import { DEFAULT_LIMITS, type NewEvent } from "../src/model/types.js";
import { checkRebaseArgs } from "../src/model/validate.js";
import { actionFromValues, storedActionFromValues, triggersText } from "../src/sql/queries/rows.js";
import { newAction } from "./fuzz/valid-args.js";

/** The columns of a stored action as the page queries select them (`selectActions`' order). */
function pageRow(e: EncodedEvent): unknown[] {
  const a = e.action;
  if (a === undefined) throw new Error("not an action");
  return [
    e.seqNo,
    e.timestamp,
    e.source,
    e.reason,
    a.actor.kind,
    a.actor.id,
    a.aggregate.kind,
    a.aggregate.id,
    a.patch,
    triggersText(a.triggers),
  ];
}

describe("SQL page rows: an action decoded straight from its columns", () => {
  it("deepStrictEqual to decoding the row form (triggers or none, any ids, patches, timestamps)", () => {
    fc.assert(
      fc.property(newAction, fc.nat({ max: 2 ** 40 }), (action, seqNo) => {
        const { history, patches } = checkRebaseArgs(1, [action], undefined, DEFAULT_LIMITS);
        const row = pageRow(encodeEvent(history[0] as NewEvent, seqNo + 1, patches[0]));
        deepStrictEqual(storedActionFromValues(row), decodeEvent(actionFromValues(row)));
      }),
      { numRuns: 500 },
    );
  });

  it("reads BIGINTs that a driver hands over as strings", () => {
    const row = [
      String(7),
      String(1_700_000_000_123),
      "s",
      "r",
      "user",
      '"u"',
      "account",
      "12",
      '{"assoc":{"n":1}}',
      null,
    ];
    deepStrictEqual(storedActionFromValues(row), decodeEvent(actionFromValues(row)));
  });
});

describe("SQL page rows: ids read without the JSON parser where their text allows", () => {
  it("reads every form of id as JSON.parse does, malformed text included", () => {
    const texts = [
      '"a"',
      '""',
      '"a\\"b"',
      '"\\u0001"',
      '"a" ',
      "0",
      "-0",
      "7",
      "-12",
      "007",
      "-",
      "1e3",
      "1.5",
      "12a",
      '"x',
    ];
    for (const text of texts) {
      const row = [1, 0, "s", "r", "k", text, "k", text, "{}", null];
      let expected: unknown;
      try {
        expected = decodeEvent(actionFromValues(row));
      } catch (error) {
        expected = error;
      }
      if (expected instanceof Error) expect(() => storedActionFromValues(row), text).toThrow(SyntaxError);
      else expect(storedActionFromValues(row), text).toStrictEqual(expected);
    }
  });
});
