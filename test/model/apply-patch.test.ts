import { deepStrictEqual } from "node:assert/strict";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyPatch, type Json, type KeyPath, type Patch, ValidationError } from "../../src/index.js";

type State = { [key: string]: Json };

/** Deep copy, so purity can be checked against the input as it was. */
function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The value at a path, or undefined. */
function getIn(state: Json | undefined, path: readonly string[]): Json | undefined {
  let at = state;
  for (const key of path) {
    if (typeof at !== "object" || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as State)[key];
  }
  return at;
}

const key = fc.constantFrom("a", "b", "c", "d", "");
const path = fc.array(key, { minLength: 1, maxLength: 3 });
const keyPath: fc.Arbitrary<KeyPath> = fc.oneof(key, path);
/** JSON values; fast-check also makes own `__proto__` keys, which have a property of their own below. */
const anyValue = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const hasProtoKey = (v: unknown) => JSON.stringify(v).includes('"__proto__":');
const value = anyValue.filter((v) => !hasProtoKey(v));
/** States whose keys overlap the generated paths, so patches hit, miss and cross values. */
const state: fc.Arbitrary<State> = fc.letrec<{ node: State; value: Json }>((tie) => ({
  node: fc.dictionary(key, tie("value"), { maxKeys: 4, noNullPrototype: true }),
  value: fc.oneof({ maxDepth: 3 }, value, tie("node")),
})).node;
const pairs = fc.array(fc.tuple(keyPath, value), { minLength: 1, maxLength: 4 });

describe("applyPatch: the examples of SPEC section 3", () => {
  it("{} + assoc {a: 1} → {a: 1}", () => {
    deepStrictEqual(applyPatch({}, { assoc: { a: 1 } }), { a: 1 });
  });
  it('{a: {c: 2}} + assoc [[["a","b"], 1]] → {a: {b: 1, c: 2}}', () => {
    deepStrictEqual(applyPatch({ a: { c: 2 } }, { assoc: [[["a", "b"], 1]] }), { a: { b: 1, c: 2 } });
  });
  it('{a: {b: 1, c: 2}, d: 3} + dissoc [["a","b"]] → {a: {c: 2}, d: 3}', () => {
    deepStrictEqual(applyPatch({ a: { b: 1, c: 2 }, d: 3 }, { dissoc: [["a", "b"]] }), { a: { c: 2 }, d: 3 });
  });
  it('{a: {d: 2}, c: 3, d: 4} + {assoc: [[["a","b"], 1]], dissoc: ["c"]} → {a: {b: 1, d: 2}, d: 4}', () => {
    deepStrictEqual(applyPatch({ a: { d: 2 }, c: 3, d: 4 }, { assoc: [[["a", "b"], 1]], dissoc: ["c"] }), {
      a: { b: 1, d: 2 },
      d: 4,
    });
  });
});

describe("applyPatch: assoc first, then dissoc", () => {
  it("a key both assoc'd and dissoc'd ends absent", () => {
    deepStrictEqual(applyPatch({ a: 1 }, { assoc: { a: 2, b: 3 }, dissoc: ["a"] }), { b: 3 });
  });
  it("pairs apply in their order: the last value of a path wins", () => {
    deepStrictEqual(
      applyPatch(
        {},
        {
          assoc: [
            ["a", 1],
            [["a"], 2],
          ],
        },
      ),
      { a: 2 },
    );
    deepStrictEqual(
      applyPatch(
        {},
        {
          assoc: [
            [["a", "b"], 1],
            ["a", 5],
            [["a", "c"], 2],
          ],
        },
      ),
      { a: { c: 2 } },
    );
  });
});

describe("applyPatch: a path assoc creates or merges nested objects, replacing a non-object on its way", () => {
  it("creates missing levels", () => {
    deepStrictEqual(applyPatch({}, { assoc: [[["a", "b", "c"], 1]] }), { a: { b: { c: 1 } } });
  });
  it("replaces numbers, strings, null and arrays with objects", () => {
    for (const old of [1, "s", null, [1, 2], true]) {
      deepStrictEqual(applyPatch({ a: old, z: 0 }, { assoc: [[["a", "b"], 1]] }), { a: { b: 1 }, z: 0 });
    }
  });
  it("an object assoc replaces the whole value of its keys, it does not merge", () => {
    deepStrictEqual(applyPatch({ a: { b: 1 } }, { assoc: { a: { c: 2 } } }), { a: { c: 2 } });
  });
});

describe("applyPatch: a path dissoc on a missing branch changes nothing and creates nothing", () => {
  it("missing keys, missing levels, non-object values on the way", () => {
    deepStrictEqual(applyPatch({ a: 1 }, { dissoc: ["b"] }), { a: 1 });
    deepStrictEqual(applyPatch({ a: 1 }, { dissoc: [["b", "c"]] }), { a: 1 });
    deepStrictEqual(applyPatch({ a: 5 }, { dissoc: [["a", "b"]] }), { a: 5 });
    deepStrictEqual(applyPatch({ a: [1] }, { dissoc: [["a", "0"]] }), { a: [1] });
    deepStrictEqual(applyPatch({ a: {} }, { dissoc: [["a", "b", "c"]] }), { a: {} });
  });
  it("a dissoc that empties an object leaves {}", () => {
    deepStrictEqual(applyPatch({ a: { b: 1 } }, { dissoc: [["a", "b"]] }), { a: {} });
    deepStrictEqual(applyPatch({ a: 1 }, { dissoc: ["a"] }), {});
  });
});

describe('applyPatch: a key "a" and a path ["a"] name the same field', () => {
  it("in assoc and dissoc", () => {
    fc.assert(
      fc.property(state, key, value, (s, k, v) => {
        const a = applyPatch(s, { assoc: [[k, v]] });
        deepStrictEqual(applyPatch(s, { assoc: [[[k], v]] }), a);
        deepStrictEqual(applyPatch(s, { assoc: { [k]: v } }), a);
        deepStrictEqual(applyPatch(s, { dissoc: [k] }), applyPatch(s, { dissoc: [[k]] }));
      }),
      { numRuns: 200 },
    );
  });
});

describe("applyPatch: pure", () => {
  it("neither the state nor the patch is changed, and the result shares no changed object with the input", () => {
    fc.assert(
      fc.property(state, pairs, fc.array(keyPath, { maxLength: 3 }), (s, assoc, dissoc) => {
        const patch: Patch = dissoc.length > 0 ? { assoc, dissoc: dedupe(dissoc) } : { assoc };
        const [sBefore, pBefore] = [clone(s), clone(patch)];
        const out = applyPatch(s, patch);
        deepStrictEqual(s, sBefore);
        deepStrictEqual(patch, pBefore);
        // Changing the result never shows in the input.
        out.__mutated__ = 1;
        deepStrictEqual(s, sBefore);
        deepStrictEqual(
          applyPatch(s, patch),
          (() => {
            const again = { ...out };
            delete again.__mutated__;
            return again;
          })(),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("a later pair never changes a value an earlier pair put in: the patch's own objects are copied", () => {
    const shared = { x: 1 };
    const patch: Patch = {
      assoc: [
        [["a"], shared],
        [["b"], shared],
        [["a", "y"], 2],
      ],
      dissoc: [["b", "x"]],
    };
    deepStrictEqual(applyPatch({}, patch), { a: { x: 1, y: 2 }, b: {} });
    deepStrictEqual(shared, { x: 1 });
  });

  it("works on frozen input", () => {
    const s = Object.freeze({ a: Object.freeze({ b: 1 }) });
    deepStrictEqual(applyPatch(s, { assoc: [[["a", "c"], 2]], dissoc: [["a", "b"]] }), { a: { c: 2 } });
  });
});

function dedupe(paths: KeyPath[]): KeyPath[] {
  const seen = new Set<string>();
  return paths.filter((p) => {
    const k = JSON.stringify(typeof p === "string" ? [p] : p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

describe("applyPatch: properties", () => {
  it("after an assoc of a path, the value is at that path; everything off the path is unchanged", () => {
    fc.assert(
      fc.property(state, path, value, (s, p, v) => {
        const out = applyPatch(s, { assoc: [[p, v]] });
        deepStrictEqual(getIn(out, p), v);
        for (const k of Object.keys(s)) if (k !== p[0]) deepStrictEqual(out[k], s[k]);
      }),
      { numRuns: 300 },
    );
  });

  it("after a dissoc of a path, nothing is at that path; everything off the path is unchanged", () => {
    fc.assert(
      fc.property(state, path, (s, p) => {
        const out = applyPatch(s, { dissoc: [p] });
        expect(getIn(out, p)).toBeUndefined();
        for (const k of Object.keys(s)) if (k !== p[0]) deepStrictEqual(out[k], s[k]);
        // Nothing created: a missing branch stays missing.
        if (getIn(s, p) === undefined) deepStrictEqual(out, s);
      }),
      { numRuns: 300 },
    );
  });

  it("dissoc is idempotent; assoc of the same value is idempotent", () => {
    fc.assert(
      fc.property(state, path, value, (s, p, v) => {
        const once = applyPatch(s, { dissoc: [p] });
        deepStrictEqual(applyPatch(once, { dissoc: [p] }), once);
        const set = applyPatch(s, { assoc: [[p, v]] });
        deepStrictEqual(applyPatch(set, { assoc: [[p, v]] }), set);
      }),
      { numRuns: 200 },
    );
  });

  it("one patch equals its assoc then its dissoc as two patches; a pair list equals its pairs one by one", () => {
    fc.assert(
      fc.property(state, pairs, fc.array(path, { minLength: 1, maxLength: 3 }), (s, assoc, dissoc) => {
        const d = dedupe(dissoc);
        const step = assoc.reduce((acc, pair) => applyPatch(acc, { assoc: [pair] }), s);
        deepStrictEqual(applyPatch(s, { assoc }), step);
        deepStrictEqual(applyPatch(s, { assoc, dissoc: d }), applyPatch(step, { dissoc: d }));
      }),
      { numRuns: 200 },
    );
  });

  it("an object assoc is a shallow merge", () => {
    fc.assert(
      fc.property(state, fc.dictionary(key, value, { minKeys: 1, noNullPrototype: true }), (s, assoc) => {
        deepStrictEqual(applyPatch(s, { assoc }), { ...s, ...assoc });
      }),
      { numRuns: 200 },
    );
  });
});

describe("applyPatch: an own __proto__ key anywhere is rejected, never applied", () => {
  it("in the state or in a value of the patch", () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        let error: unknown;
        try {
          applyPatch({}, { assoc: { a: v } });
        } catch (e) {
          error = e;
        }
        if (hasProtoKey(v)) expect(error).toMatchObject({ name: "ValidationError", code: "forbidden-key" });
        else expect(error).toBeUndefined();
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    expect(() => applyPatch(JSON.parse('{"a": {"__proto__": {"polluted": 1}}}'), { assoc: { b: 1 } })).toThrow(
      ValidationError,
    );
  });
});

describe("applyPatch: bad input is a ValidationError", () => {
  const cases: [string, unknown, unknown, string, string][] = [
    ["a state that is an array", [], { assoc: { a: 1 } }, "invalid-type", "state"],
    ["a state with a Date", { a: new Date() }, { assoc: { a: 1 } }, "invalid-type", "state.a"],
    ["an empty patch", {}, {}, "missing-key", "patch"],
    ["a NaN value", {}, { assoc: { a: Number.NaN } }, "invalid-number", "patch.assoc.a"],
    ["a __proto__ path", {}, { assoc: [[["a", "__proto__"], 1]] }, "forbidden-key", "patch.assoc[0][0][1]"],
    ["a typo'd patch key", {}, { asoc: { a: 1 } }, "unknown-key", "patch.asoc"],
    // As a rebase rejects them: JSON would drop the extra keys.
    [
      "an array value with a key",
      {},
      { assoc: { v: Object.assign([1, 2], { x: 1 }) } },
      "invalid-type",
      "patch.assoc.v",
    ],
    [
      "an array in the state with a key",
      { v: Object.assign([1], { x: 1 }) },
      { assoc: { a: 1 } },
      "invalid-type",
      "state.v",
    ],
    [
      "an array value with a symbol key",
      {},
      { assoc: { v: Object.assign([1], { [Symbol("s")]: 1 }) } },
      "invalid-type",
      "patch.assoc.v",
    ],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    ["an array value with a hole", {}, { assoc: { v: [1, , 3] } }, "invalid-type", "patch.assoc.v[1]"],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    ["a dissoc list with a hole", { a: 1 }, { dissoc: [, "a"] }, "invalid-type", "patch.dissoc[0]"],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    ["an assoc pair list with a hole", {}, { assoc: [, ["b", 1]] }, "invalid-type", "patch.assoc[0]"],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    ["a key path with a hole", {}, { assoc: [[["a", , "b"], 2]] }, "invalid-type", "patch.assoc[0][0][1]"],
    [
      "a key path that is an array subclass",
      {},
      { dissoc: [new (class extends Array {})()] },
      "invalid-type",
      "patch.dissoc[0]",
    ],
  ];
  for (const [name, s, patch, code, path] of cases) {
    it(`${name}: ${code} at ${path}`, () => {
      let error: unknown;
      try {
        applyPatch(s as State, patch as Patch);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code, path });
    });
  }
});

describe("applyPatch: each argument is read once", () => {
  it("a getter that answers otherwise on a second read is read once: what is checked is what is applied", () => {
    let reads = 0;
    const patch = {
      get assoc() {
        reads++;
        return reads === 1 ? { a: 1 } : JSON.parse('{"__proto__": {"isAdmin": true}, "n": 10}');
      },
    };
    const out = applyPatch({}, patch as Patch);
    deepStrictEqual(out, { a: 1 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(reads).toBe(1);
    let stateReads = 0;
    const state = {
      b: 1,
      get a() {
        stateReads++;
        return stateReads === 1 ? 10 : (10n as never);
      },
    };
    deepStrictEqual(applyPatch(state, { assoc: { c: 2 } }), { a: 10, b: 1, c: 2 });
    expect(stateReads).toBe(1);
  });

  it("shared arrays 30 levels deep in the state are refused (too-large), not copied 2^30 times", () => {
    let shared: Json = 1;
    for (let i = 0; i < 30; i++) shared = [shared, shared];
    expect(() => applyPatch({ shared }, { assoc: { b: 1 } })).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "too-large", path: "state" }),
    );
  });
});

describe("applyPatch: deep paths and states", () => {
  const path = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

  it("folds a path of 1,000 keys (the deepest limits.depth), assoc then dissoc, in a loop", () => {
    const keys = path(1000);
    const state = applyPatch({}, { assoc: [[keys, 1]] });
    let node: Json = state;
    for (const key of keys.slice(0, -1)) node = (node as Record<string, Json>)[key] as Json;
    expect(node).toEqual({ k999: 1 });
    const shorter = applyPatch(state, { dissoc: [keys] });
    node = shorter;
    for (const key of keys.slice(0, -1)) node = (node as Record<string, Json>)[key] as Json;
    expect(node).toEqual({});
    // The original is untouched, and a dissoc of a missing branch changes nothing.
    expect(applyPatch(state, { dissoc: [["k0", "x", "y"]] })).toEqual(state);
  });

  it("folds a longer path (a store written before key paths were limited may hold one), and folds on it", () => {
    const state = applyPatch({}, { assoc: [[path(2500), 1]] });
    expect(Object.keys(applyPatch(state, { assoc: [["other", 2]] }))).toEqual(["k0", "other"]);
  });

  it("refuses a state too deep for the stack with a ValidationError, not a RangeError", () => {
    let deep: Json = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(() => applyPatch({ deep }, { assoc: { b: 1 } })).toThrow(expect.objectContaining({ code: "too-deep" }));
  });
});
