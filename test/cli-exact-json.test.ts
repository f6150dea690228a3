import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkExactJson } from "../src/cli/exact-json.js";

const check = (text: string) => checkExactJson(text, (offset) => `input at ${offset}`);

describe("JSON input is read as written or refused", () => {
  it("passes whatever JSON.stringify writes, and every double however it is written", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => check(JSON.stringify(value) ?? "null")));
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const printed = String(d);
        check(printed);
        check(`[${printed}]`);
        // The same value in other forms: an exponent, trailing zeros, a fraction of zeros.
        check(d.toExponential());
        if (!printed.includes("e")) check(printed.includes(".") ? `${printed}000` : `${printed}.000`);
      }),
    );
    for (const same of [
      "1.0",
      "1e2",
      "100E0",
      "0.1e1",
      "-0",
      "-0.0",
      "0e10",
      "1e21",
      "5e-324",
      "0.30000000000000004",
    ]) {
      check(same);
    }
  });

  it("refuses a number that would be stored as another, naming where it is", () => {
    const cases: [string, number, string][] = [
      ['{"n": 9007199254740993}', 6, "9007199254740992"],
      ["[1, 12345678901234567890]", 4, "12345678901234567000"],
      ["1.00000000000000000001", 0, "1"],
      ["[1e-400]", 1, "0"],
      ["[-1e-400]", 1, "0"],
      ["0.1000000000000000055511151231257827", 0, "0.1"],
    ];
    for (const [text, offset, printed] of cases) {
      expect(() => check(text), text).toThrow(
        new RegExp(`^input at ${offset}: the number \\S+ would be stored as ${printed.replace(".", "\\.")} \\(`),
      );
    }
    // Too big for a double is the store's to refuse (non-finite), naming the field.
    check("[1e400]");
  });

  it("refuses a key given twice in one object, however it is escaped, and only in one object", () => {
    expect(() => check('{"a": 1, "b": {"a": 2}, "a": 3}')).toThrow(
      /^input at 24: the key "a" is given twice in one object \(JSON keeps the last\)/,
    );
    expect(() => check('{"a\\u0062": 1, "ab": 2}')).toThrow(/the key "ab" is given twice/);
    expect(() => check('[{"x": "\\"}", "y": 1}, {"y": 2}, {"x": [{"x": 1}], "z": ",\\"x\\":"}]')).not.toThrow();
    expect(() => check('{"assoc": [[["a", "b"], 1]], "dissoc": ["assoc"]}')).not.toThrow();
  });
});
