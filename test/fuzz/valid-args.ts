import fc from "fast-check";

/**
 * Arbitraries of valid arguments of `rebase` and `stream` (SPEC section 1),
 * edge cases included: the fuzz tests mutate these into hostile ones.
 * Every value here is plain data (strings, numbers, Dates, arrays, objects),
 * so fast-check can print and shrink it.
 */

const EDGE_STRINGS = [
  "a",
  "A",
  " a ",
  "a ",
  "1",
  "00",
  "-0",
  "é",
  "e\u0301",
  "😀",
  "\u{10FFFF}",
  "\uFEFF",
  "'; DROP TABLE events; --",
  '"',
  "\\",
  "%",
  "_",
  "\n\t",
  "x".repeat(200),
  "é".repeat(200),
];

/** A clean, non-empty string of at most `max` UTF-16 code units. */
function cleanString(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...EDGE_STRINGS.filter((s) => s.length <= max)) },
    {
      weight: 3,
      arbitrary: fc
        .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
        .filter((s) => s.length <= max && !s.includes("\u0000")),
    },
  );
}

/** A `Kind`. */
export const kind = cleanString(200);

/** An `Id`: a safe integer (−0 included) or a clean, non-empty string. */
export const id: fc.Arbitrary<number | string> = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.maxSafeInteger(),
  cleanString(300),
);

/** An `Identity`. */
export const identity = fc.tuple(kind, id);

/** An object key: any clean string but `__proto__`, the empty one and look-alikes of Object.prototype included. */
export const key: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    "constructor",
    "toString",
    "hasOwnProperty",
    "prototype",
    "toJSON",
    "valueOf",
    "a.b",
    "1",
    "length",
  ),
  // fast-check slips "__proto__" into its strings now and then.
  cleanString(20).filter((k) => k !== "__proto__"),
);

const number = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1e-7),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Objects with a prototype: one without is refused in what a store keeps (it would read back with one). */
const PLAIN_VALUES = { noNullPrototype: true } as const;

/** A JSON value nested at most a few levels. */
export const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    number,
    fc.oneof(cleanString(30), fc.constant("")),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4, ...PLAIN_VALUES }),
  ),
})).value;

/** A `KeyPath`. */
export const keyPath = fc.oneof(key, fc.array(key, { minLength: 1, maxLength: 3 }));

const pathText = (p: string | string[]) => JSON.stringify(typeof p === "string" ? [p] : p);

/** A `Patch`: assoc as an object or as pairs, dissoc distinct, at least one of them. */
export const patch = fc
  .record(
    {
      assoc: fc.oneof(
        fc.dictionary(key, json, { minKeys: 1, maxKeys: 4, ...PLAIN_VALUES }),
        fc.array(fc.tuple(keyPath, json), { minLength: 1, maxLength: 3 }),
      ),
      dissoc: fc.uniqueArray(keyPath, { minLength: 1, maxLength: 3, selector: pathText }),
    },
    { requiredKeys: [], noNullPrototype: true },
  )
  .filter((p) => p.assoc !== undefined || p.dissoc !== undefined);

/** A valid Date, the extremes of the range included. */
export const timestamp = fc.oneof(
  fc.constantFrom(new Date(8.64e15), new Date(-8.64e15), new Date(0), new Date(-1)),
  fc.date({ noInvalidDate: true }),
);

const uniqueIdentities = fc.uniqueArray(identity, {
  minLength: 1,
  maxLength: 3,
  selector: ([k, i]) => `${k}\u0000${JSON.stringify(i)}`,
});

/** Plain objects (fast-check makes half of them without a prototype, which a store refuses: see `hostile.ts`). */
const PLAIN = { noNullPrototype: true } as const;

/** A `NewAction`. */
export const newAction = fc.record(
  {
    timestamp,
    source: kind,
    action: fc.record({ reason: kind, actor: identity, aggregate: identity, patch }, PLAIN),
    triggers: uniqueIdentities,
  },
  { requiredKeys: ["timestamp", "source", "action"], ...PLAIN },
);

/** A `NewEffect`. */
export const newEffect = fc.record(
  { timestamp, source: kind, effect: fc.record({ reason: kind, trigger: identity }, PLAIN) },
  PLAIN,
);

/** A history of a few events. */
export const history = fc.array(fc.oneof(newAction, newEffect), { minLength: 1, maxLength: 4 });

/** Options of `stream` (the offset is set by the caller to fit the store). */
export const streamOptions = fc.record(
  {
    offset: fc.nat({ max: 40 }),
    aggregates: fc.array(identity, { minLength: 1, maxLength: 3 }),
    kinds: fc.array(kind, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: [] },
);
