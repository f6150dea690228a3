import { beforeAll, describe, expect, it } from "vitest";
import {
  CoherenceError,
  type Identity,
  type NewEvent,
  openStore,
  type Store,
  ValidationError,
} from "../../src/index.js";
import type { StoreFactory } from "../stores.js";
import { act, collect, eff, T0 } from "../support/events.js";
import { expectUnchanged, type StoreState, stateOf } from "../support/store-state.js";

/** One bad input: what is called, and the ValidationError it must give. */
interface BadCase {
  readonly name: string;
  readonly call: (store: Store) => Promise<unknown> | unknown;
  readonly code: string;
  readonly path: string;
}

const GOOD = act(["book", 1], { assoc: { a: 1 } });
const EFFECT = eff(["key", 1]);

/** `GOOD` with `action` fields replaced. */
function withAction(fields: Record<string, unknown>): NewEvent {
  return { ...GOOD, action: { ...GOOD.action, ...fields } } as unknown as NewEvent;
}

/** `GOOD` with its patch replaced. */
function withPatch(patch: unknown): NewEvent {
  return withAction({ patch });
}

/** `GOOD` with `assoc: { a: value }`. */
function withValue(value: unknown): NewEvent {
  return withPatch({ assoc: { a: value } });
}

/** `EFFECT` with `effect` fields replaced. */
function withEffect(fields: Record<string, unknown>): NewEvent {
  return { ...EFFECT, effect: { ...EFFECT.effect, ...fields } } as unknown as NewEvent;
}

/** Rebases one bad event as the last of a history of good ones, so a partial write would show. */
function rebaseEvent(event: unknown): (store: Store) => Promise<unknown> {
  return (store) => store.rebase(1, [act(["book", 2]), EFFECT, event as NewEvent]);
}

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? { d: value } : [value];
  return value;
}

/** The path of the `count + 1`-th container of `nested(levels)` (the first one past a limit of `count`). */
function deepPath(prefix: string, levels: number, count: number): string {
  let path = prefix;
  for (let i = levels - 1; i > levels - 1 - count; i--) path += i % 2 ? ".d" : "[0]";
  return path;
}

/** `list` with a hole at `index`. */
function holey<T>(list: T[], index: number): T[] {
  const out = [...list];
  delete out[index];
  return out;
}

function cyclic(): unknown {
  const a: Record<string, unknown> = { b: 1 };
  a.self = a;
  return a;
}

function cyclicArray(): unknown {
  const a: unknown[] = [1];
  a.push({ back: a });
  return a;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const at = "history[2]";
const patchAt = `${at}.action.patch`;

const REBASE_BASE: BadCase[] = [
  { name: "base 0", call: (s) => s.rebase(0, [GOOD]), code: "invalid-number", path: "base" },
  { name: "base -1", call: (s) => s.rebase(-1, [GOOD]), code: "invalid-number", path: "base" },
  { name: "base 1.5", call: (s) => s.rebase(1.5, [GOOD]), code: "invalid-number", path: "base" },
  { name: "base NaN", call: (s) => s.rebase(Number.NaN, [GOOD]), code: "invalid-number", path: "base" },
  {
    name: "base Infinity",
    call: (s) => s.rebase(Number.POSITIVE_INFINITY, [GOOD]),
    code: "invalid-number",
    path: "base",
  },
  {
    name: "base an unsafe integer",
    call: (s) => s.rebase(Number.MAX_SAFE_INTEGER + 1, [GOOD]),
    code: "invalid-number",
    path: "base",
  },
  { name: 'base "1"', call: (s) => s.rebase("1" as never, [GOOD]), code: "invalid-number", path: "base" },
  { name: "base 1n", call: (s) => s.rebase(1n as never, [GOOD]), code: "invalid-number", path: "base" },
  { name: "base undefined", call: (s) => s.rebase(undefined as never, [GOOD]), code: "invalid-number", path: "base" },
  { name: "base null", call: (s) => s.rebase(null as never, [GOOD]), code: "invalid-number", path: "base" },
];

const REBASE_HISTORY: BadCase[] = [
  { name: "an empty history", call: (s) => s.rebase(1, []), code: "empty", path: "history" },
  { name: "history undefined", call: (s) => s.rebase(1, undefined as never), code: "invalid-type", path: "history" },
  { name: "history an object", call: (s) => s.rebase(1, { 0: GOOD } as never), code: "invalid-type", path: "history" },
  {
    name: "history one event, not a list",
    call: (s) => s.rebase(1, GOOD as never),
    code: "invalid-type",
    path: "history",
  },
  {
    name: "a hole in the history",
    call: (s) => s.rebase(1, holey([GOOD, GOOD, GOOD], 1)),
    code: "invalid-type",
    path: "history[1]",
  },
  { name: "a null event", call: rebaseEvent(null), code: "invalid-type", path: at },
  { name: "an event that is a string", call: rebaseEvent("event"), code: "invalid-type", path: at },
  { name: "an event that is a list", call: rebaseEvent([GOOD]), code: "invalid-type", path: at },
  {
    name: "a typo'd event key",
    call: rebaseEvent({ ...GOOD, trigers: [["k", 1]] }),
    code: "unknown-key",
    path: `${at}.trigers`,
  },
  {
    // An unknown key is refused whatever its value: with undefined it would pass until it had one.
    name: "a typo'd event key whose value is undefined",
    call: rebaseEvent({ ...GOOD, trigers: undefined }),
    code: "unknown-key",
    path: `${at}.trigers`,
  },
  {
    name: "a seqNo undefined in a history event",
    call: rebaseEvent({ ...GOOD, seqNo: undefined }),
    code: "seq-no-given",
    path: `${at}.seqNo`,
  },
  {
    name: "a seqNo in a history event",
    call: rebaseEvent({ ...GOOD, seqNo: 3 }),
    code: "seq-no-given",
    path: `${at}.seqNo`,
  },
  {
    name: "a seqNo 0 in a history event",
    call: rebaseEvent({ ...EFFECT, seqNo: 0 }),
    code: "seq-no-given",
    path: `${at}.seqNo`,
  },
  {
    name: "no timestamp",
    call: rebaseEvent({ ...GOOD, timestamp: undefined }),
    code: "missing-key",
    path: `${at}.timestamp`,
  },
  {
    name: "a timestamp string",
    call: rebaseEvent({ ...GOOD, timestamp: T0.toISOString() }),
    code: "invalid-type",
    path: `${at}.timestamp`,
  },
  {
    name: "a timestamp number",
    call: rebaseEvent({ ...GOOD, timestamp: T0.getTime() }),
    code: "invalid-type",
    path: `${at}.timestamp`,
  },
  {
    name: "an invalid Date",
    call: rebaseEvent({ ...GOOD, timestamp: new Date("nope") }),
    code: "invalid-date",
    path: `${at}.timestamp`,
  },
  { name: "no source", call: rebaseEvent({ ...GOOD, source: undefined }), code: "missing-key", path: `${at}.source` },
  { name: "an empty source", call: rebaseEvent({ ...GOOD, source: "" }), code: "empty", path: `${at}.source` },
  {
    name: "a 201-character source",
    call: rebaseEvent({ ...GOOD, source: "s".repeat(201) }),
    code: "too-long",
    path: `${at}.source`,
  },
  {
    name: "a source of 101 astral characters",
    call: rebaseEvent({ ...GOOD, source: "😀".repeat(101) }),
    code: "too-long",
    path: `${at}.source`,
  },
  {
    name: "a source with \\u0000",
    call: rebaseEvent({ ...GOOD, source: "a\u0000b" }),
    code: "invalid-string",
    path: `${at}.source`,
  },
  {
    name: "a source with a lone surrogate",
    call: rebaseEvent({ ...GOOD, source: "a\uD800" }),
    code: "invalid-string",
    path: `${at}.source`,
  },
  {
    name: "a source with a lone low surrogate",
    call: rebaseEvent({ ...GOOD, source: "\uDC00a" }),
    code: "invalid-string",
    path: `${at}.source`,
  },
  { name: "a source number", call: rebaseEvent({ ...GOOD, source: 5 }), code: "invalid-type", path: `${at}.source` },
  {
    name: "a source symbol",
    call: rebaseEvent({ ...GOOD, source: Symbol("s") }),
    code: "invalid-type",
    path: `${at}.source`,
  },
  {
    name: "both action and effect",
    call: rebaseEvent({ ...GOOD, effect: EFFECT.effect }),
    code: "missing-key",
    path: at,
  },
  {
    name: "neither action nor effect",
    call: rebaseEvent({ timestamp: T0, source: "s" }),
    code: "missing-key",
    path: at,
  },
];

const REBASE_ACTION: BadCase[] = [
  {
    name: "a typo'd action key",
    call: rebaseEvent(withAction({ aggregat: ["b", 1] })),
    code: "unknown-key",
    path: `${at}.action.aggregat`,
  },
  {
    name: "a typo'd action key whose value is undefined",
    call: rebaseEvent(withAction({ reasn: undefined })),
    code: "unknown-key",
    path: `${at}.action.reasn`,
  },
  {
    name: "an action that is a list",
    call: rebaseEvent({ ...GOOD, action: [] }),
    code: "invalid-type",
    path: `${at}.action`,
  },
  {
    name: "no reason",
    call: rebaseEvent(withAction({ reason: undefined })),
    code: "missing-key",
    path: `${at}.action.reason`,
  },
  {
    name: "an empty reason",
    call: rebaseEvent(withAction({ reason: "" })),
    code: "empty",
    path: `${at}.action.reason`,
  },
  {
    name: "a 201-character reason",
    call: rebaseEvent(withAction({ reason: "r".repeat(201) })),
    code: "too-long",
    path: `${at}.action.reason`,
  },
  {
    name: "no actor",
    call: rebaseEvent(withAction({ actor: undefined })),
    code: "missing-key",
    path: `${at}.action.actor`,
  },
  {
    name: "an actor string",
    call: rebaseEvent(withAction({ actor: "alice" })),
    code: "invalid-type",
    path: `${at}.action.actor`,
  },
  {
    name: "an actor of three",
    call: rebaseEvent(withAction({ actor: ["user", 1, 2] })),
    code: "invalid-type",
    path: `${at}.action.actor`,
  },
  {
    name: "an actor of one",
    call: rebaseEvent(withAction({ actor: ["user"] })),
    code: "invalid-type",
    path: `${at}.action.actor`,
  },
  {
    name: "an actor object",
    call: rebaseEvent(withAction({ actor: { 0: "user", 1: 1, length: 2 } })),
    code: "invalid-type",
    path: `${at}.action.actor`,
  },
  {
    name: "an empty aggregate kind",
    call: rebaseEvent(withAction({ aggregate: ["", 1] })),
    code: "empty",
    path: `${at}.action.aggregate[0]`,
  },
  {
    name: "a 201-character aggregate kind",
    call: rebaseEvent(withAction({ aggregate: ["k".repeat(201), 1] })),
    code: "too-long",
    path: `${at}.action.aggregate[0]`,
  },
  {
    name: "a number kind",
    call: rebaseEvent(withAction({ aggregate: [1, 1] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[0]`,
  },
  {
    name: "a kind with \\u0000",
    call: rebaseEvent(withAction({ aggregate: ["bo\u0000ok", 1] })),
    code: "invalid-string",
    path: `${at}.action.aggregate[0]`,
  },
  {
    name: "an id 1.5",
    call: rebaseEvent(withAction({ aggregate: ["b", 1.5] })),
    code: "invalid-number",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id NaN",
    call: rebaseEvent(withAction({ aggregate: ["b", Number.NaN] })),
    code: "invalid-number",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id Infinity",
    call: rebaseEvent(withAction({ aggregate: ["b", Number.POSITIVE_INFINITY] })),
    code: "invalid-number",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id 2^53",
    call: rebaseEvent(withAction({ aggregate: ["b", 2 ** 53] })),
    code: "invalid-number",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id -(2^53)",
    call: rebaseEvent(withAction({ aggregate: ["b", -(2 ** 53)] })),
    code: "invalid-number",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id 1n",
    call: rebaseEvent(withAction({ aggregate: ["b", 1n] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an empty id",
    call: rebaseEvent(withAction({ aggregate: ["b", ""] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id null",
    call: rebaseEvent(withAction({ aggregate: ["b", null] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id true",
    call: rebaseEvent(withAction({ aggregate: ["b", true] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id object",
    call: rebaseEvent(withAction({ aggregate: ["b", { id: 1 }] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id Date",
    call: rebaseEvent(withAction({ aggregate: ["b", T0] })),
    code: "invalid-type",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id with a lone surrogate",
    call: rebaseEvent(withAction({ aggregate: ["b", "\uDBFF"] })),
    code: "invalid-string",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "an id with \\u0000",
    call: rebaseEvent(withAction({ aggregate: ["b", "\u0000"] })),
    code: "invalid-string",
    path: `${at}.action.aggregate[1]`,
  },
  {
    name: "a hole in the aggregate",
    call: rebaseEvent(withAction({ aggregate: holey(["b", 1], 0) })),
    code: "invalid-type",
    path: `${at}.action.aggregate[0]`,
  },
  {
    name: "an actor id 1.5",
    call: rebaseEvent(withAction({ actor: ["user", 1.5] })),
    code: "invalid-number",
    path: `${at}.action.actor[1]`,
  },
  { name: "empty triggers", call: rebaseEvent({ ...GOOD, triggers: [] }), code: "empty", path: `${at}.triggers` },
  {
    name: "triggers an object",
    call: rebaseEvent({ ...GOOD, triggers: { k: 1 } }),
    code: "invalid-type",
    path: `${at}.triggers`,
  },
  {
    name: "a trigger twice",
    call: rebaseEvent({
      ...GOOD,
      triggers: [
        ["k", 1],
        ["j", 1],
        ["k", 1],
      ],
    }),
    code: "not-distinct",
    path: `${at}.triggers[2]`,
  },
  {
    name: "a trigger of one",
    call: rebaseEvent({ ...GOOD, triggers: [["k", 1], ["k"]] }),
    code: "invalid-type",
    path: `${at}.triggers[1]`,
  },
  {
    name: "a trigger id 1.5",
    call: rebaseEvent({ ...GOOD, triggers: [["k", 1.5]] }),
    code: "invalid-number",
    path: `${at}.triggers[0][1]`,
  },
  {
    name: "a hole in triggers",
    call: rebaseEvent({
      ...GOOD,
      triggers: holey(
        [
          ["k", 1],
          ["k", 3],
          ["k", 2],
        ],
        1,
      ),
    }),
    code: "invalid-type",
    path: `${at}.triggers[1]`,
  },
];

const REBASE_EFFECT: BadCase[] = [
  {
    name: "a typo'd effect key",
    call: rebaseEvent(withEffect({ triger: ["k", 1] })),
    code: "unknown-key",
    path: `${at}.effect.triger`,
  },
  {
    name: "a typo'd effect key whose value is undefined",
    call: rebaseEvent(withEffect({ reasn: undefined })),
    code: "unknown-key",
    path: `${at}.effect.reasn`,
  },
  {
    name: "triggers on an effect",
    call: rebaseEvent({ ...EFFECT, triggers: [["k", 1]] }),
    code: "unknown-key",
    path: `${at}.triggers`,
  },
  {
    name: "an effect without trigger",
    call: rebaseEvent(withEffect({ trigger: undefined })),
    code: "missing-key",
    path: `${at}.effect.trigger`,
  },
  {
    name: "an effect without reason",
    call: rebaseEvent(withEffect({ reason: undefined })),
    code: "missing-key",
    path: `${at}.effect.reason`,
  },
  {
    name: "an effect reason of 201",
    call: rebaseEvent(withEffect({ reason: "r".repeat(201) })),
    code: "too-long",
    path: `${at}.effect.reason`,
  },
  {
    name: "an effect trigger id 1.5",
    call: rebaseEvent(withEffect({ trigger: ["k", 1.5] })),
    code: "invalid-number",
    path: `${at}.effect.trigger[1]`,
  },
  {
    name: "an effect trigger kind empty",
    call: rebaseEvent(withEffect({ trigger: ["", 1] })),
    code: "empty",
    path: `${at}.effect.trigger[0]`,
  },
  {
    name: "an effect that is null",
    call: rebaseEvent({ ...EFFECT, effect: null }),
    code: "invalid-type",
    path: `${at}.effect`,
  },
];

const REBASE_PATCH: BadCase[] = [
  { name: "a patch null", call: rebaseEvent(withPatch(null)), code: "invalid-type", path: patchAt },
  { name: "an empty patch", call: rebaseEvent(withPatch({})), code: "missing-key", path: patchAt },
  {
    name: "a patch of undefined keys",
    call: rebaseEvent(withPatch({ assoc: undefined, dissoc: undefined })),
    code: "missing-key",
    path: patchAt,
  },
  {
    name: "a typo'd patch key",
    call: rebaseEvent(withPatch({ asoc: { a: 1 } })),
    code: "unknown-key",
    path: `${patchAt}.asoc`,
  },
  {
    name: "a typo'd patch key whose value is undefined",
    call: rebaseEvent(withPatch({ assoc: { a: 1 }, disoc: undefined })),
    code: "unknown-key",
    path: `${patchAt}.disoc`,
  },
  {
    name: "an empty assoc object",
    call: rebaseEvent(withPatch({ assoc: {} })),
    code: "empty",
    path: `${patchAt}.assoc`,
  },
  { name: "an empty assoc list", call: rebaseEvent(withPatch({ assoc: [] })), code: "empty", path: `${patchAt}.assoc` },
  {
    name: "an assoc string",
    call: rebaseEvent(withPatch({ assoc: "a" })),
    code: "invalid-type",
    path: `${patchAt}.assoc`,
  },
  {
    name: "an assoc Map",
    call: rebaseEvent(withPatch({ assoc: new Map([["a", 1]]) })),
    code: "invalid-type",
    path: `${patchAt}.assoc`,
  },
  {
    name: "an assoc pair of three",
    call: rebaseEvent(withPatch({ assoc: [["a", 1, 2]] })),
    code: "invalid-type",
    path: `${patchAt}.assoc[0]`,
  },
  {
    name: "an assoc pair of one",
    call: rebaseEvent(withPatch({ assoc: [["a", 1], ["b"]] })),
    code: "invalid-type",
    path: `${patchAt}.assoc[1]`,
  },
  {
    name: "a hole in the assoc list",
    call: rebaseEvent(
      withPatch({
        assoc: holey(
          [
            ["a", 1],
            ["c", 3],
            ["b", 2],
          ],
          1,
        ),
      }),
    ),
    code: "invalid-type",
    path: `${patchAt}.assoc[1]`,
  },
  {
    name: "an empty key path",
    call: rebaseEvent(withPatch({ assoc: [[[], 1]] })),
    code: "invalid-type",
    path: `${patchAt}.assoc[0][0]`,
  },
  {
    name: "a number key",
    call: rebaseEvent(withPatch({ assoc: [[1, 1]] })),
    code: "invalid-type",
    path: `${patchAt}.assoc[0][0]`,
  },
  {
    name: "a number in a key path",
    call: rebaseEvent(withPatch({ assoc: [[["a", 0], 1]] })),
    code: "invalid-type",
    path: `${patchAt}.assoc[0][0][1]`,
  },
  {
    name: "a hole in a key path",
    call: rebaseEvent(withPatch({ assoc: [[holey(["a", "b", "c"], 1), 1]] })),
    code: "invalid-type",
    path: `${patchAt}.assoc[0][0][1]`,
  },
  {
    name: "__proto__ as an assoc key",
    call: rebaseEvent(withPatch({ assoc: [["__proto__", 1]] })),
    code: "forbidden-key",
    path: `${patchAt}.assoc[0][0]`,
  },
  {
    name: "__proto__ in an assoc path",
    call: rebaseEvent(withPatch({ assoc: [[["a", "__proto__"], {}]] })),
    code: "forbidden-key",
    path: `${patchAt}.assoc[0][0][1]`,
  },
  {
    name: "__proto__ in a dissoc path",
    call: rebaseEvent(withPatch({ dissoc: [["a", "__proto__"]] })),
    code: "forbidden-key",
    path: `${patchAt}.dissoc[0][1]`,
  },
  {
    name: "a key path with \\u0000",
    call: rebaseEvent(withPatch({ dissoc: ["a\u0000"] })),
    code: "invalid-string",
    path: `${patchAt}.dissoc[0]`,
  },
  { name: "an empty dissoc", call: rebaseEvent(withPatch({ dissoc: [] })), code: "empty", path: `${patchAt}.dissoc` },
  {
    name: "a dissoc string",
    call: rebaseEvent(withPatch({ dissoc: "a" })),
    code: "invalid-type",
    path: `${patchAt}.dissoc`,
  },
  {
    name: "a dissoc key twice",
    call: rebaseEvent(withPatch({ dissoc: ["a", "b", "a"] })),
    code: "not-distinct",
    path: `${patchAt}.dissoc[2]`,
  },
  {
    name: 'a dissoc of "a" and ["a"]',
    call: rebaseEvent(withPatch({ dissoc: ["a", ["a"]] })),
    code: "not-distinct",
    path: `${patchAt}.dissoc[1]`,
  },
  {
    name: "a dissoc path twice",
    call: rebaseEvent(
      withPatch({
        dissoc: [
          ["a", "b"],
          ["a", "b"],
        ],
      }),
    ),
    code: "not-distinct",
    path: `${patchAt}.dissoc[1]`,
  },
  {
    name: "a hole in the dissoc",
    call: rebaseEvent(withPatch({ dissoc: holey(["a", "c", "b"], 1) })),
    code: "invalid-type",
    path: `${patchAt}.dissoc[1]`,
  },
  {
    name: "a dissoc null",
    call: rebaseEvent(withPatch({ dissoc: [null] })),
    code: "invalid-type",
    path: `${patchAt}.dissoc[0]`,
  },
];

const v = `${patchAt}.assoc.a`;
/** Arrays holding one array twice, `levels` deep: JSON writes 2^levels values of it. */
function sharedArrays(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value, value];
  return value;
}

const REBASE_VALUES: BadCase[] = [
  // Copied as JSON writes it, it would take a billion values: refused at limits.eventBytes values.
  {
    name: "shared arrays 30 levels deep (2^30 values as JSON)",
    call: rebaseEvent(withValue(sharedArrays(30))),
    code: "too-large",
    path: "history[2]",
  },
  // It would read back as an object with a prototype: not deepStrictEqual to what was written.
  {
    name: "an object without a prototype",
    call: rebaseEvent(withValue(Object.assign(Object.create(null), { x: 1 }))),
    code: "invalid-type",
    path: v,
  },
  {
    name: "an object without a prototype, nested",
    call: rebaseEvent(withValue({ b: [Object.create(null)] })),
    code: "invalid-type",
    path: `${v}.b[0]`,
  },
  { name: "a value undefined", call: rebaseEvent(withValue(undefined)), code: "invalid-type", path: v },
  { name: "a value NaN", call: rebaseEvent(withValue(Number.NaN)), code: "invalid-number", path: v },
  { name: "a value Infinity", call: rebaseEvent(withValue(Number.POSITIVE_INFINITY)), code: "invalid-number", path: v },
  {
    name: "a value -Infinity",
    call: rebaseEvent(withValue([Number.NEGATIVE_INFINITY])),
    code: "invalid-number",
    path: `${v}[0]`,
  },
  { name: "a value BigInt", call: rebaseEvent(withValue(10n)), code: "invalid-type", path: v },
  { name: "a value Date", call: rebaseEvent(withValue(new Date(0))), code: "invalid-type", path: v },
  { name: "a value Map", call: rebaseEvent(withValue(new Map())), code: "invalid-type", path: v },
  { name: "a value Set", call: rebaseEvent(withValue(new Set([1]))), code: "invalid-type", path: v },
  { name: "a value RegExp", call: rebaseEvent(withValue(/a/)), code: "invalid-type", path: v },
  { name: "a class instance", call: rebaseEvent(withValue(new Point(1, 2))), code: "invalid-type", path: v },
  { name: "a boxed number", call: rebaseEvent(withValue(Object(1))), code: "invalid-type", path: v },
  { name: "a boxed string", call: rebaseEvent(withValue(Object("s"))), code: "invalid-type", path: v },
  { name: "a typed array", call: rebaseEvent(withValue(new Uint8Array(2))), code: "invalid-type", path: v },
  { name: "a function", call: rebaseEvent(withValue(() => 1)), code: "invalid-type", path: v },
  { name: "a symbol", call: rebaseEvent(withValue(Symbol("x"))), code: "invalid-type", path: v },
  { name: "a symbol key", call: rebaseEvent(withValue({ [Symbol("x")]: 1 })), code: "invalid-type", path: v },
  {
    name: "a class instance, nested",
    call: rebaseEvent(withValue({ b: new Point(0, 0) })),
    code: "invalid-type",
    path: `${v}.b`,
  },
  { name: "a cycle through an object", call: rebaseEvent(withValue(cyclic())), code: "cycle", path: `${v}.self` },
  {
    name: "a cycle through an array",
    call: rebaseEvent(withValue(cyclicArray())),
    code: "cycle",
    path: `${v}[1].back`,
  },
  {
    name: "an own __proto__ key",
    call: rebaseEvent(withValue(JSON.parse('{"__proto__": 1}'))),
    code: "forbidden-key",
    path: `${v}.__proto__`,
  },
  {
    name: "an own __proto__ key in assoc",
    call: rebaseEvent(withPatch({ assoc: JSON.parse('{"a": 1, "__proto__": {}}') })),
    code: "forbidden-key",
    path: `${patchAt}.assoc.__proto__`,
  },
  {
    name: "a lone surrogate in a value",
    call: rebaseEvent(withValue(["ok", "x\uD83D"])),
    code: "invalid-string",
    path: `${v}[1]`,
  },
  { name: "\\u0000 in a value", call: rebaseEvent(withValue({ s: "\u0000" })), code: "invalid-string", path: `${v}.s` },
  {
    name: "a lone surrogate in a key",
    call: rebaseEvent(withValue({ "\uDE00": 1 })),
    code: "invalid-string",
    path: `${v}["\\ude00"]`,
  },
  { name: "a sparse array", call: rebaseEvent(withValue(holey([1, 2, 3], 1))), code: "invalid-type", path: `${v}[1]` },
  {
    name: "an array subclass",
    call: rebaseEvent(withValue(new (class extends Array {})())),
    code: "invalid-type",
    path: v,
  },
  { name: "65 levels", call: rebaseEvent(withValue(nested(65))), code: "too-deep", path: deepPath(v, 65, 64) },
  {
    name: "66 levels in pair form",
    call: rebaseEvent(withPatch({ assoc: [["a", nested(66)]] })),
    code: "too-deep",
    path: deepPath(`${patchAt}.assoc[0][1]`, 66, 64),
  },
  {
    name: "an assoc key path of 65 keys (each nests the value a level deeper)",
    call: rebaseEvent(withPatch({ assoc: [[Array.from({ length: 65 }, () => "a"), 1]] })),
    code: "too-deep",
    path: `${patchAt}.assoc[0][0]`,
  },
  {
    name: "a dissoc key path of 10,000 keys",
    call: rebaseEvent(withPatch({ dissoc: [Array.from({ length: 10_000 }, () => "a")] })),
    code: "too-deep",
    path: `${patchAt}.dissoc[0]`,
  },
  {
    name: "an event over 1 MiB",
    call: rebaseEvent(withValue("x".repeat(1024 * 1024))),
    code: "too-large",
    path: at,
  },
  {
    name: "an event over 1 MiB in UTF-8 but not in UTF-16 code units",
    call: rebaseEvent(withValue("€".repeat(350_000))),
    code: "too-large",
    path: at,
  },
  {
    name: "an event over 1 MiB in astral characters",
    call: rebaseEvent(withValue("😀".repeat(262_144))),
    code: "too-large",
    path: at,
  },
];

const REBASE_OPTIONS: BadCase[] = [
  {
    name: "resolved of shared arrays 60 levels deep",
    call: (s) => s.rebase(1, [GOOD], { resolved: sharedArrays(60) } as never),
    code: "too-large",
    path: "options",
  },
  { name: "options null", call: (s) => s.rebase(1, [GOOD], null as never), code: "invalid-type", path: "options" },
  { name: "options a boolean", call: (s) => s.rebase(1, [GOOD], true as never), code: "invalid-type", path: "options" },
  {
    name: "a typo'd option",
    call: (s) => s.rebase(1, [GOOD], { resolve: [1] } as never),
    code: "unknown-key",
    path: "options.resolve",
  },
  {
    name: "a typo'd option whose value is undefined",
    call: (s) => s.rebase(1, [GOOD], { dyr: undefined } as never),
    code: "unknown-key",
    path: "options.dyr",
  },
  {
    name: "dry a string",
    call: (s) => s.rebase(1, [GOOD], { dry: "yes" } as never),
    code: "invalid-type",
    path: "options.dry",
  },
  { name: "dry 1", call: (s) => s.rebase(1, [GOOD], { dry: 1 } as never), code: "invalid-type", path: "options.dry" },
  {
    name: "resolved a number",
    call: (s) => s.rebase(1, [GOOD], { resolved: 1 } as never),
    code: "invalid-type",
    path: "options.resolved",
  },
  {
    name: "resolved a Set",
    call: (s) => s.rebase(1, [GOOD], { resolved: new Set([1]) } as never),
    code: "invalid-type",
    path: "options.resolved",
  },
  {
    name: "resolved 0",
    call: (s) => s.rebase(1, [GOOD], { resolved: [1, 0] }),
    code: "invalid-number",
    path: "options.resolved[1]",
  },
  {
    name: "resolved 1.5",
    call: (s) => s.rebase(1, [GOOD], { resolved: [1.5] }),
    code: "invalid-number",
    path: "options.resolved[0]",
  },
  {
    name: 'resolved "1"',
    call: (s) => s.rebase(1, [GOOD], { resolved: ["1"] } as never),
    code: "invalid-number",
    path: "options.resolved[0]",
  },
  {
    name: "resolved NaN",
    call: (s) => s.rebase(1, [GOOD], { resolved: [Number.NaN] }),
    code: "invalid-number",
    path: "options.resolved[0]",
  },
  {
    name: "resolved unsafe",
    call: (s) => s.rebase(1, [GOOD], { resolved: [2 ** 53] }),
    code: "invalid-number",
    path: "options.resolved[0]",
  },
  {
    name: "resolved twice",
    call: (s) => s.rebase(1, [GOOD], { resolved: [2, 1, 2] }),
    code: "not-distinct",
    path: "options.resolved[2]",
  },
  {
    name: "a hole in resolved",
    call: (s) => s.rebase(1, [GOOD], { resolved: holey([1, 2, 3], 1) }),
    code: "invalid-type",
    path: "options.resolved[1]",
  },
  {
    name: "resolved over 10,000 entries",
    call: (s) => s.rebase(1, [GOOD], { resolved: Array.from({ length: 10_001 }, (_, i) => i + 1) }),
    code: "too-many",
    path: "options.resolved",
  },
  {
    name: "a history over 10,000 events",
    call: (s) =>
      s.rebase(
        1,
        Array.from({ length: 10_001 }, () => GOOD),
      ),
    code: "too-many",
    path: "history",
  },
];

const STREAM: BadCase[] = [
  { name: "stream options null", call: (s) => collect(s.stream(null as never)), code: "invalid-type", path: "options" },
  {
    name: "stream options a number",
    call: (s) => collect(s.stream(5 as never)),
    code: "invalid-type",
    path: "options",
  },
  {
    name: "a typo'd stream option",
    call: (s) => collect(s.stream({ ofset: 1 } as never)),
    code: "unknown-key",
    path: "options.ofset",
  },
  {
    name: "a typo'd stream option whose value is undefined",
    call: (s) => collect(s.stream({ ofset: undefined } as never)),
    code: "unknown-key",
    path: "options.ofset",
  },
  { name: "offset -1", call: (s) => collect(s.stream({ offset: -1 })), code: "invalid-number", path: "options.offset" },
  {
    name: "offset 1.5",
    call: (s) => collect(s.stream({ offset: 1.5 })),
    code: "invalid-number",
    path: "options.offset",
  },
  {
    name: "offset NaN",
    call: (s) => collect(s.stream({ offset: Number.NaN })),
    code: "invalid-number",
    path: "options.offset",
  },
  {
    name: "offset Infinity",
    call: (s) => collect(s.stream({ offset: Number.POSITIVE_INFINITY })),
    code: "invalid-number",
    path: "options.offset",
  },
  {
    name: "offset unsafe",
    call: (s) => collect(s.stream({ offset: 2 ** 53 })),
    code: "invalid-number",
    path: "options.offset",
  },
  {
    name: 'offset "1"',
    call: (s) => collect(s.stream({ offset: "1" } as never)),
    code: "invalid-number",
    path: "options.offset",
  },
  {
    name: "offset null",
    call: (s) => collect(s.stream({ offset: null } as never)),
    code: "invalid-number",
    path: "options.offset",
  },
  {
    name: "aggregates empty",
    call: (s) => collect(s.stream({ aggregates: [] })),
    code: "empty",
    path: "options.aggregates",
  },
  {
    name: "aggregates one identity, not a list",
    call: (s) => collect(s.stream({ aggregates: ["b", 1] as never })),
    code: "invalid-type",
    path: "options.aggregates[0]",
  },
  {
    name: "aggregates a string",
    call: (s) => collect(s.stream({ aggregates: "b" as never })),
    code: "invalid-type",
    path: "options.aggregates",
  },
  {
    name: "an aggregate id 1.5",
    call: (s) =>
      collect(
        s.stream({
          aggregates: [
            ["b", 1],
            ["b", 1.5],
          ],
        }),
      ),
    code: "invalid-number",
    path: "options.aggregates[1][1]",
  },
  {
    name: "an aggregate kind empty",
    call: (s) => collect(s.stream({ aggregates: [["", 1]] })),
    code: "empty",
    path: "options.aggregates[0][0]",
  },
  {
    name: "a hole in aggregates",
    call: (s) =>
      collect(
        s.stream({
          aggregates: holey<Identity>(
            [
              ["b", 2],
              ["b", 1],
            ],
            0,
          ),
        }),
      ),
    code: "invalid-type",
    path: "options.aggregates[0]",
  },
  { name: "kinds empty", call: (s) => collect(s.stream({ kinds: [] })), code: "empty", path: "options.kinds" },
  {
    name: "kinds a string",
    call: (s) => collect(s.stream({ kinds: "b" as never })),
    code: "invalid-type",
    path: "options.kinds",
  },
  {
    name: "a kind empty",
    call: (s) => collect(s.stream({ kinds: ["b", ""] })),
    code: "empty",
    path: "options.kinds[1]",
  },
  {
    name: "a kind of 201",
    call: (s) => collect(s.stream({ kinds: ["k".repeat(201)] })),
    code: "too-long",
    path: "options.kinds[0]",
  },
  {
    name: "a kind number",
    call: (s) => collect(s.stream({ kinds: [1] as never })),
    code: "invalid-type",
    path: "options.kinds[0]",
  },
  {
    name: "a kind with a lone surrogate",
    call: (s) => collect(s.stream({ kinds: ["\uD800"] })),
    code: "invalid-string",
    path: "options.kinds[0]",
  },
];

const CONFLICTS: BadCase[] = [
  { name: "conflicts offset 0", call: (s) => s.conflicts(0, ["b", 1]), code: "invalid-number", path: "offset" },
  { name: "conflicts offset -1", call: (s) => s.conflicts(-1, ["b", 1]), code: "invalid-number", path: "offset" },
  { name: "conflicts offset 1.5", call: (s) => s.conflicts(1.5, ["b", 1]), code: "invalid-number", path: "offset" },
  {
    name: "conflicts offset undefined",
    call: (s) => s.conflicts(undefined as never, ["b", 1]),
    code: "invalid-number",
    path: "offset",
  },
  {
    name: 'conflicts offset "1"',
    call: (s) => s.conflicts("1" as never, ["b", 1]),
    code: "invalid-number",
    path: "offset",
  },
  {
    name: "conflicts aggregate undefined",
    call: (s) => s.conflicts(1, undefined as never),
    code: "invalid-type",
    path: "aggregate",
  },
  {
    name: "conflicts aggregate of one",
    call: (s) => s.conflicts(1, ["b"] as never),
    code: "invalid-type",
    path: "aggregate",
  },
  { name: "conflicts aggregate kind empty", call: (s) => s.conflicts(1, ["", 1]), code: "empty", path: "aggregate[0]" },
  {
    name: "conflicts aggregate id 1.5",
    call: (s) => s.conflicts(1, ["b", 1.5]),
    code: "invalid-number",
    path: "aggregate[1]",
  },
  {
    name: "conflicts aggregate id with \\u0000",
    call: (s) => s.conflicts(1, ["b", "\u0000"]),
    code: "invalid-string",
    path: "aggregate[1]",
  },
];

const AGGREGATE: BadCase[] = [
  { name: "aggregate undefined", call: (s) => s.aggregate(undefined as never), code: "invalid-type", path: "identity" },
  { name: "aggregate a string", call: (s) => s.aggregate("b:1" as never), code: "invalid-type", path: "identity" },
  {
    name: "aggregate of three",
    call: (s) => s.aggregate(["b", 1, 2] as never),
    code: "invalid-type",
    path: "identity",
  },
  {
    name: "aggregate id null",
    call: (s) => s.aggregate(["b", null] as never),
    code: "invalid-type",
    path: "identity[1]",
  },
  {
    name: "aggregate id NaN",
    call: (s) => s.aggregate(["b", Number.NaN]),
    code: "invalid-number",
    path: "identity[1]",
  },
  {
    name: "aggregate kind of 201",
    call: (s) => s.aggregate(["k".repeat(201), 1]),
    code: "too-long",
    path: "identity[0]",
  },
  {
    name: "aggregate kind with a lone surrogate",
    call: (s) => s.aggregate(["\uDFFF", 1]),
    code: "invalid-string",
    path: "identity[0]",
  },
];

/** Bad options of `openStore`: a ValidationError, thrown (or rejected) before anything is opened. */
const OPEN_STORE: [string, unknown, string, string][] = [
  ["options null", null, "invalid-type", "options"],
  ["options a string", "tables", "invalid-type", "options"],
  ["a typo'd option", { table: {} }, "unknown-key", "options.table"],
  ["a typo'd option whose value is undefined", { limts: undefined }, "unknown-key", "options.limts"],
  ["limits null", { limits: null }, "invalid-type", "options.limits"],
  ["a typo'd limit", { limits: { deph: 3 } }, "unknown-key", "options.limits.deph"],
  ["a typo'd relation whose value is undefined", { tables: { evnt: undefined } }, "unknown-key", "options.tables.evnt"],
  ["limits.depth 0", { limits: { depth: 0 } }, "invalid-number", "options.limits.depth"],
  ["limits.depth past 1000", { limits: { depth: 1001 } }, "too-large", "options.limits.depth"],
  ["limits.eventBytes 1.5", { limits: { eventBytes: 1.5 } }, "invalid-number", "options.limits.eventBytes"],
  ["limits.historyLength -1", { limits: { historyLength: -1 } }, "invalid-number", "options.limits.historyLength"],
  [
    "limits.resolvedLength Infinity",
    { limits: { resolvedLength: Number.POSITIVE_INFINITY } },
    "invalid-number",
    "options.limits.resolvedLength",
  ],
  ['limits.depth "3"', { limits: { depth: "3" } }, "invalid-number", "options.limits.depth"],
  ["tables a string", { tables: "events" }, "invalid-type", "options.tables"],
  ["a table name with a quote", { tables: { event: 'e"' } }, "invalid-name", "options.tables.event"],
];

const OPEN_URL: [string, unknown, string][] = [
  ["a number", 5, "invalid-url"],
  ["undefined", undefined, "invalid-url"],
  ["an unknown scheme", "nope://x", "invalid-url"],
  ["sqlite: without a path", "sqlite:", "invalid-url"],
  ["an empty string", "", "invalid-url"],
  ["a malformed %-escape in a PostgreSQL password", "postgres://u:%zz@127.0.0.1:1/db", "invalid-url"],
  ["a malformed %-escape in a MySQL database", "mysql://u@127.0.0.1:1/d%", "invalid-url"],
  ["a SQLite path with \\u0000 (the file system would cut it there)", "sqlite:/tmp/a\u0000b.db", "invalid-url"],
  ["a SQLite path with a lone surrogate", "sqlite:/tmp/a\uD800.db", "invalid-url"],
  ["a query string on a SQLite URL (it would name the file)", "sqlite:q.db?synchronous=NORMAL", "invalid-url"],
  ["memory: with something after it", "memory:x", "invalid-url"],
  ["mysql2 settings mysql2 refuses (ssl=true)", "mysql://u@127.0.0.1:1/d?ssl=true", "unsupported"],
  ["an unknown MySQL charset", "mysql://u@127.0.0.1:1/d?charset=nosuch", "unsupported"],
  // The drivers ignore parameters they do not read: a misspelled sslmode would connect without TLS.
  ["a PostgreSQL URL parameter pg does not read (sslmod)", "postgres://u@127.0.0.1:1/d?sslmod=require", "invalid-url"],
  ["a PostgreSQL database as a parameter", "postgres://u@127.0.0.1:1/?database=d", "invalid-url"],
  ["a pool setting in a PostgreSQL URL (max)", "postgres://u@127.0.0.1:1/d?ssl=true&max=5", "invalid-url"],
  ["a MySQL URL parameter mysql2 does not read (sslmode)", "mysql://u@127.0.0.1:1/d?sslmode=REQUIRED", "invalid-url"],
  ["a MySQL host as a parameter (mysql2 reads the URL's own)", "mysql://u@127.0.0.1:1/d?host=db", "invalid-url"],
  // Every call would wait for a connection for ever.
  ["a MySQL pool of -1 as a parameter", "mysql://u@127.0.0.1:1/d?connectionLimit=-1", "invalid-url"],
  // pg connects to the parameter's port: close() then waited for ever on a port it cannot read.
  ["a PostgreSQL port parameter of 99999", "postgres://u@127.0.0.1:5432/d?port=99999", "invalid-url"],
  ["a PostgreSQL port parameter with letters after it", "postgres://u@127.0.0.1:5432/d?port=5432junk", "invalid-url"],
];

/**
 * Bad driver options of a server store: the drivers drop what they do not
 * read (pg the options' host, port, user, password and database; mysql2 lets
 * them override the URL's), so each is refused when the store is opened.
 */
const OPEN_DRIVER_OPTIONS: [string, string, unknown, string, string][] = [
  [
    "a pg setting misspelled",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { maxx: 5 } },
    "unknown-key",
    "options.postgres.maxx",
  ],
  [
    "pg's pipeline mode (the store pipelines its own statements)",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { pipeline: true } },
    "unsupported",
    "options.postgres.pipeline",
  ],
  [
    "a host in options.postgres",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { host: "db" } },
    "forbidden-key",
    "options.postgres.host",
  ],
  [
    "a database in options.postgres",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { database: "x" } },
    "forbidden-key",
    "options.postgres.database",
  ],
  [
    "a connection string in options.postgres",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { connectionString: "postgres://x/y" } },
    "forbidden-key",
    "options.postgres.connectionString",
  ],
  [
    "a pg password of 5",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { password: 5 } },
    "invalid-type",
    "options.postgres.password",
  ],
  [
    "a pg password in the URL and the options",
    "postgres://u:pw@127.0.0.1:1/d",
    { postgres: { password: "pw" } },
    "forbidden-key",
    "options.postgres.password",
  ],
  [
    "a pg password as a URL parameter and in the options",
    "postgres://u@127.0.0.1:1/d?password=pw",
    { postgres: { password: () => "pw" } },
    "forbidden-key",
    "options.postgres.password",
  ],
  [
    "a pg pool of -1",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { max: -1 } },
    "invalid-number",
    "options.postgres.max",
  ],
  [
    "a pg pool of 0 (pg would make it 10)",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { max: 0 } },
    "invalid-number",
    "options.postgres.max",
  ],
  [
    "a pg poolSize of -1",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { poolSize: -1 } },
    "invalid-number",
    "options.postgres.poolSize",
  ],
  [
    "a pg pool minimum of 1.5",
    "postgres://u@127.0.0.1:1/d",
    { postgres: { min: 1.5 } },
    "invalid-number",
    "options.postgres.min",
  ],
  [
    "a mysql2 pool of -1",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { connectionLimit: -1 } },
    "invalid-number",
    "options.mysql.connectionLimit",
  ],
  [
    "a mysql2 queue limit of -2",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { queueLimit: -2 } },
    "invalid-number",
    "options.mysql.queueLimit",
  ],
  [
    "a mysql2 setting misspelled",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { connectionLimt: 2 } },
    "unknown-key",
    "options.mysql.connectionLimt",
  ],
  [
    "a user in options.mysql",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { user: "root" } },
    "forbidden-key",
    "options.mysql.user",
  ],
  [
    "a port in options.mysql",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { port: 3307 } },
    "forbidden-key",
    "options.mysql.port",
  ],
  [
    "a uri in options.mysql",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { uri: "mysql://x/y" } },
    "forbidden-key",
    "options.mysql.uri",
  ],
  [
    "mysql2's queryFormat",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { queryFormat: () => "" } },
    "unsupported",
    "options.mysql.queryFormat",
  ],
  [
    "a mysql2 password as a function",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { password: () => "pw" } },
    "invalid-type",
    "options.mysql.password",
  ],
  [
    "a mysql2 password1 with a password in the URL (mysql2 takes the URL's)",
    "mysql://u:pw@127.0.0.1:1/d",
    { mysql: { password1: "other" } },
    "forbidden-key",
    "options.mysql.password1",
  ],
  [
    "a mysql2 password with password1 in the URL",
    "mysql://u@127.0.0.1:1/d?password1=a",
    { mysql: { password: "b" } },
    "forbidden-key",
    "options.mysql.password",
  ],
  [
    "a mysql2 password and password1 both",
    "mysql://u@127.0.0.1:1/d",
    { mysql: { password: "a", password1: "b" } },
    "forbidden-key",
    "options.mysql.password",
  ],
  [
    "a mysql2 password in the URL and the options",
    "mariadb://u:pw@127.0.0.1:1/d",
    { mysql: { password: "other" } },
    "forbidden-key",
    "options.mysql.password",
  ],
];

/** Bad input under changed limits: `openStore(url, { limits })`. */
const LIMITED: [string, (store: Store) => Promise<unknown>, string, string][] = [
  [
    "an event over limits.eventBytes 2000",
    (s) => s.rebase(1, [withValue("x".repeat(2000))]),
    "too-large",
    "history[0]",
  ],
  [
    "a value nested over limits.depth 3",
    (s) => s.rebase(1, [withValue(nested(4))]),
    "too-deep",
    deepPath("history[0].action.patch.assoc.a", 4, 3),
  ],
  ["a history over limits.historyLength 3", (s) => s.rebase(1, [GOOD, GOOD, GOOD, GOOD]), "too-many", "history"],
  [
    "a history of a million events: refused before any is read",
    (s) =>
      s.rebase(
        1,
        new Proxy(new Array(1_000_000).fill(GOOD), {
          get: (target, key, receiver) => {
            if (typeof key === "string" && /^\d+$/.test(key)) throw new Error(`element ${key} was read`);
            return Reflect.get(target, key, receiver);
          },
        }),
      ),
    "too-many",
    "history",
  ],
  [
    "resolved over limits.resolvedLength 2",
    (s) => s.rebase(1, [GOOD], { resolved: [1, 2, 3] }),
    "too-many",
    "options.resolved",
  ],
];

const GROUPS: [string, BadCase[]][] = [
  ["rebase: base", REBASE_BASE],
  ["rebase: history and events", REBASE_HISTORY],
  ["rebase: actions and triggers", REBASE_ACTION],
  ["rebase: effects", REBASE_EFFECT],
  ["rebase: patches", REBASE_PATCH],
  ["rebase: patch values", REBASE_VALUES],
  ["rebase: options and limits", REBASE_OPTIONS],
  ["stream", STREAM],
  ["conflicts", CONFLICTS],
  ["aggregate", AGGREGATE],
];

async function expectRejected(call: () => Promise<unknown> | unknown, code: string, path: string): Promise<void> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, "expected a ValidationError").toBeInstanceOf(ValidationError);
  expect(error, "a ValidationError is a CoherenceError").toBeInstanceOf(CoherenceError);
  expect(error).toMatchObject({ name: "ValidationError", code, path });
}

/**
 * SPEC section 5: an async function throws by rejecting its promise. `call`
 * runs at once and must return a promise without throwing; the stream cases
 * are exempt (stream() returns an iterable, which may refuse at once or, at
 * the latest, on its first iteration).
 */
function calledOnce(group: string, call: () => unknown): () => unknown {
  if (group === "stream") return call;
  let returned: unknown;
  expect(() => {
    returned = call();
  }, "an async function rejects its promise rather than throw").not.toThrow();
  expect(returned).toBeInstanceOf(Promise);
  return () => returned;
}

/** SPEC section 5: bad input gets a ValidationError with a stable code and the path of the field, and writes nothing. */
export function testBadInput(factory: StoreFactory): void {
  for (const [group, cases] of GROUPS) {
    describe(`bad input: ${group} is rejected with ValidationError, code and path, and nothing is written`, () => {
      let store: Store;
      let before: StoreState;
      beforeAll(async () => {
        store = await factory.create();
        const r = await store.rebase(1, [
          act(["book", 1], undefined, { triggers: [["key", 1]] }),
          act(["book", 2]),
          EFFECT,
        ]);
        expect(r.result).toBe("ok");
        before = await stateOf(store);
      });
      for (const { name, call, code, path } of cases) {
        it(`${name}: ${code} at ${path}`, async () => {
          await expectRejected(
            calledOnce(group, () => call(store)),
            code,
            path,
          );
          await expectUnchanged(store, before);
        });
      }
    });
  }

  describe("bad input: openStore options are rejected with ValidationError, code and path", () => {
    let store: Store;
    let before: StoreState;
    beforeAll(async () => {
      store = await factory.create();
      expect((await store.rebase(1, [GOOD])).result).toBe("ok");
      before = await stateOf(store);
    });
    for (const [name, options, code, path] of OPEN_STORE) {
      it(`${name}: ${code} at ${path}`, async () => {
        await expectRejected(() => openStore(factory.lastUrl as string, options as never), code, path);
        await expectUnchanged(store, before);
      });
    }
    for (const [name, url, code] of OPEN_URL) {
      it(`url ${name}: ${code} at url`, async () => {
        await expectRejected(() => openStore(url as never), code, "url");
      });
    }
    for (const [name, url, options, code, path] of OPEN_DRIVER_OPTIONS) {
      it(`${name}: ${code} at ${path}`, async () => {
        await expectRejected(() => openStore(url, options as never), code, path);
      });
    }
  });

  describe("bad input: limits changed through openStore(url, { limits }) apply", () => {
    let store: Store;
    let before: StoreState;
    beforeAll(async () => {
      store = await factory.create({ limits: { eventBytes: 2000, depth: 3, historyLength: 3, resolvedLength: 2 } });
      expect((await store.rebase(1, [GOOD])).result).toBe("ok");
      before = await stateOf(store);
    });
    for (const [name, call, code, path] of LIMITED) {
      it(`${name}: ${code} at ${path}`, async () => {
        await expectRejected(() => call(store), code, path);
        await expectUnchanged(store, before);
      });
    }
    it("what the changed limits allow is accepted", async () => {
      const r = await store.rebase(1, [withValue("x".repeat(1500)), withValue(nested(3)), GOOD], { resolved: [1, 2] });
      expect(r.result).toBe("ok");
    });
  });

  describe("bad input: values at the limits are accepted", () => {
    it("64 levels, a 200-character kind, a safe integer id, a 1 MiB event, 10,000 resolved", async () => {
      const store = await factory.create();
      const kind = "k".repeat(200);
      const big = withValue("x".repeat(1024 * 1024 - 400));
      const history = [
        withValue(nested(64)),
        withAction({ aggregate: [kind, Number.MAX_SAFE_INTEGER], actor: [kind, -Number.MAX_SAFE_INTEGER] }),
        big,
      ];
      const resolved = Array.from({ length: 10_000 }, (_, i) => i + 1);
      expect(Buffer.byteLength(JSON.stringify(big))).toBeLessThanOrEqual(1024 * 1024);
      const r = await store.rebase(1, history, { resolved });
      expect(r.result).toBe("ok");
      expect(await store.currentSeqNo()).toBe(3);
    });

    it("an event of exactly limits.eventBytes bytes of JSON is stored, one byte more is too-large", async () => {
      const store = await factory.create();
      const limit = 1024 * 1024;
      // Two characters of 2 and 3 bytes of UTF-8: the limit counts bytes, not UTF-16 code units.
      const sized = (bytes: number) => {
        const probe = withValue("é€");
        const pad = bytes - Buffer.byteLength(JSON.stringify(probe));
        return withValue(`${"x".repeat(pad)}é€`);
      };
      const exact = sized(limit);
      expect(Buffer.byteLength(JSON.stringify(exact))).toBe(limit);
      expect((await store.rebase(1, [exact])).result).toBe("ok");
      const over = sized(limit + 1);
      expect(Buffer.byteLength(JSON.stringify(over))).toBe(limit + 1);
      await expectRejected(() => store.rebase(2, [over]), "too-large", "history[0]");
      expect(await store.currentSeqNo()).toBe(1);
    });
  });
}
