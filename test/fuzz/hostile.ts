import fc from "fast-check";

/**
 * Hostile values (SPEC section 1) and the mutations that put them into valid
 * arguments. A mutation is plain data (printable, shrinkable); `mutate` builds
 * the hostile arguments from it, with the value a store must read back if it
 * accepts them.
 */

/** What a call with the mutated arguments may do. */
export type Outcome =
  /** Valid arguments: the call must succeed. */
  | "accept"
  /** Invalid anywhere: the call must throw a `ValidationError`. */
  | "reject"
  /** Valid in some places: either, but when accepted the stored events must equal `expected`. */
  | "either";

class Money {
  constructor(readonly amount = 1) {}
}

/** A cycle: an object that contains itself. */
function cycle(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

/** Values that are invalid wherever they are put. */
const REJECTED: Record<string, () => unknown> = {
  NaN: () => Number.NaN,
  Infinity: () => Number.POSITIVE_INFINITY,
  "-Infinity": () => Number.NEGATIVE_INFINITY,
  bigint: () => 10n,
  symbol: () => Symbol("s"),
  function: () => () => 1,
  Map: () => new Map([["a", 1]]),
  Set: () => new Set([1]),
  "class instance": () => new Money(),
  "inherited object": () => Object.assign(Object.create({ inherited: 1 }), { a: 1 }),
  "lone high surrogate": () => "a\uD800",
  "lone low surrogate": () => "\uDC00b",
  "\\u0000": () => "a\u0000b",
  cycle,
  "array cycle": () => {
    const a: unknown[] = [1];
    a.push(a);
    return a;
  },
  Uint8Array: () => new Uint8Array([1, 2]),
  ArrayBuffer: () => new ArrayBuffer(2),
  Buffer: () => Buffer.from("ab"),
  WeakMap: () => new WeakMap(),
  Promise: () => Promise.resolve(1),
  RegExp: () => /a/,
  Error: () => new Error("e"),
  "invalid Date": () => new Date(Number.NaN),
  "String object": () => new String("s"),
  "Number object": () => new Number(1),
  "sparse array": () => {
    const a: unknown[] = [];
    a[1] = 1;
    return a;
  },
  "too deep": () => nested(70),
};

/** Values valid in some places (a number where a string is due, -0 where a positive integer is, …). */
const EITHER: Record<string, () => unknown> = {
  undefined: () => undefined,
  null: () => null,
  "-0": () => -0,
  "0": () => 0,
  "1": () => 1,
  "1.5": () => 1.5,
  "2**53": () => 2 ** 53,
  "-1": () => -1,
  "empty string": () => "",
  "blank string": () => " ",
  '"1"': () => "1",
  true: () => true,
  "{}": () => ({}),
  "[]": () => [],
  "null-prototype {}": () => Object.create(null),
  Date: () => new Date(0),
  "201 characters": () => "x".repeat(201),
  // Too large for an event, yet a valid id to filter a stream by.
  "over 1 MiB": () => "x".repeat(1_100_000),
  identity: () => ["k", 1],
  "frozen {}": () => Object.freeze({}),
};

/** Ways to wrap an object or array of the arguments. */
const WRAPS = [
  "freeze",
  "null-prototype",
  "proxy",
  "getters",
  "flaky getter",
  "throwing getter",
  "throwing proxy",
  "revoked proxy",
  "hole",
  "extra array key",
  "subclass",
] as const;

/** Keys to add to an object of the arguments. */
const EXTRA_KEYS = ["__proto__", "typo", "seqNo", "symbol", "non-enumerable", "undefined"] as const;

/** A mutation of valid arguments: where (an index into their positions, modulo their number) and what. */
export type Mutation =
  | { readonly op: "none" }
  | { readonly op: "replace"; readonly at: number; readonly value: string }
  | { readonly op: "wrap"; readonly at: number; readonly how: (typeof WRAPS)[number] }
  | { readonly op: "add-key"; readonly at: number; readonly key: (typeof EXTRA_KEYS)[number] };

/** Mutations, a fifth of them none. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ op: "none" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("replace" as const),
      at: fc.nat(),
      value: fc.constantFrom(...Object.keys(REJECTED), ...Object.keys(EITHER)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("wrap" as const), at: fc.nat(), how: fc.constantFrom(...WRAPS) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("add-key" as const), at: fc.nat(), key: fc.constantFrom(...EXTRA_KEYS) }),
  },
);

type Path = readonly (string | number)[];

function isContainer(v: unknown): v is Record<string | number, unknown> {
  return typeof v === "object" && v !== null && !(v instanceof Date);
}

/** Every path below the root, parents before children. */
function paths(root: unknown, prefix: Path = []): Path[] {
  if (!isContainer(root)) return [];
  const out: Path[] = [];
  for (const k of Object.keys(root)) {
    const key = Array.isArray(root) ? Number(k) : k;
    out.push([...prefix, key]);
    out.push(...paths(root[key], [...prefix, key]));
  }
  return out;
}

function get(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

function set(root: unknown, path: Path, value: unknown): void {
  const parent = get(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path.at(-1) as string | number;
  if (value === undefined && !Array.isArray(parent)) delete parent[key];
  else parent[key] = value;
}

/** The form a value reads back in when accepted: -0 as 0, keys with `undefined` dropped, plain prototypes. */
export function normalized(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (!isContainer(v)) return v;
  if (Array.isArray(v)) {
    const out: unknown[] = v.map(normalized);
    Object.setPrototypeOf(out, Object.getPrototypeOf(v));
    for (const k of Object.keys(v))
      if (!/^\d+$/.test(k)) (out as unknown as Record<string, unknown>)[k] = normalized(v[k as never]);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  const out: Record<string | symbol, unknown> = Object.create(proto === null ? Object.prototype : proto);
  for (const k of Reflect.ownKeys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d?.enumerable && v[k as string] !== undefined) out[k] = normalized(v[k as string]);
  }
  return out;
}

/** A copy with a container of its own at every place, values and prototypes as they are. */
function unaliased<T>(v: T): T {
  if (!isContainer(v)) return v;
  if (Array.isArray(v)) {
    const out: unknown[] = v.map(unaliased);
    Object.setPrototypeOf(out, Object.getPrototypeOf(v));
    return out as T;
  }
  const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(v));
  for (const k of Object.keys(v)) out[k] = unaliased(v[k]);
  return out as T;
}

function deepFreeze<T>(v: T): T {
  if (isContainer(v)) {
    for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
}

function withGetters(
  v: Record<string | number, unknown>,
  keys: readonly string[],
  make: (value: unknown) => () => unknown,
): void {
  for (const k of keys) {
    const value = v[k];
    Object.defineProperty(v, k, { get: make(value), enumerable: true, configurable: true });
  }
}

/** A subclass with a name that shows in messages. */
class Tuple extends Array {}
class Record_ {}

/**
 * Applies `m` to a copy of the valid arguments `clean`. Returns the hostile
 * arguments, what a store must read back if it accepts them, and whether it must.
 * `stored` are the indexes of the arguments that are stored and read back: an
 * object without a prototype there is refused (it would read back with one).
 */
export function mutate<T>(
  clean: T,
  m: Mutation,
  stored: readonly number[] = [],
): { actual: T; expected: T; outcome: Outcome; where: string } {
  // Unaliased: valid arguments may hold one array twice (the same identity picked twice), and a
  // mutation of one place must not show at the other, as it would not in `expected`.
  const actual = unaliased(structuredClone(clean));
  const expected = normalized(structuredClone(clean)) as T;
  if (m.op === "none") return { actual, expected, outcome: "accept", where: "" };
  if (m.op === "replace") {
    const all = paths(actual);
    const path = all[m.at % all.length] as Path;
    const rejected = REJECTED[m.value];
    const value = (rejected ?? EITHER[m.value] ?? (() => undefined))();
    set(actual, path, value);
    // A rejected value is never read back (and a cycle has no normal form).
    set(expected, path, rejected ? value : normalized(value));
    return { actual, expected, outcome: rejected ? "reject" : "either", where: `${path.join(".")} = ${m.value}` };
  }
  const containers = [[], ...paths(actual)].filter((p) => isContainer(get(actual, p)));
  const path = containers[m.at % containers.length] as Path;
  const v = get(actual, path) as Record<string | number, unknown>;
  const e = get(expected, path) as Record<string | number, unknown>;
  const keys = Object.keys(v);
  const where = `${path.join(".")}: ${m.op === "wrap" ? m.how : m.key}`;
  const replace = (value: unknown) => (path.length === 0 ? undefined : set(actual, path, value));
  if (path.length === 0) {
    // The root is the list of arguments itself, not one of them: only keys added to it mean nothing.
    return { actual, expected, outcome: "accept", where };
  }
  if (m.op === "wrap") {
    switch (m.how) {
      case "freeze":
        deepFreeze(v);
        return { actual, expected, outcome: "accept", where };
      case "null-prototype":
        if (Array.isArray(v)) return { actual, expected, outcome: "accept", where };
        replace(Object.assign(Object.create(null), v));
        return { actual, expected, outcome: stored.includes(path[0] as number) ? "reject" : "accept", where };
      case "proxy":
        replace(new Proxy(v, {}));
        return { actual, expected, outcome: "either", where };
      case "getters":
        withGetters(v, keys, (value) => () => value);
        return { actual, expected, outcome: "either", where };
      case "flaky getter": {
        // Valid on the first read, a bigint ever after: only a single read of each field is safe.
        withGetters(v, keys.slice(0, 1), (value) => {
          let reads = 0;
          return () => (reads++ === 0 ? value : 10n);
        });
        return { actual, expected, outcome: "either", where };
      }
      case "throwing getter":
        if (keys.length === 0) return { actual, expected, outcome: "accept", where };
        withGetters(v, keys.slice(0, 1), () => () => {
          throw new Error("a getter of the caller threw");
        });
        return { actual, expected, outcome: "reject", where };
      case "throwing proxy":
        replace(
          new Proxy(v, {
            get() {
              throw new Error("a proxy of the caller threw");
            },
            ownKeys() {
              throw new Error("a proxy of the caller threw");
            },
          }),
        );
        return { actual, expected, outcome: "reject", where };
      case "revoked proxy": {
        const { proxy, revoke } = Proxy.revocable(v, {});
        revoke();
        replace(proxy);
        return { actual, expected, outcome: "reject", where };
      }
      case "hole":
        if (!Array.isArray(v) || v.length === 0) return { actual, expected, outcome: "accept", where };
        delete v[0];
        return { actual, expected, outcome: "reject", where };
      case "extra array key":
        if (!Array.isArray(v)) return { actual, expected, outcome: "accept", where };
        (v as unknown as Record<string, unknown>).extra = 1;
        (e as unknown as Record<string, unknown>).extra = 1;
        return { actual, expected, outcome: "either", where };
      case "subclass": {
        const proto = Array.isArray(v) ? Tuple.prototype : Record_.prototype;
        Object.setPrototypeOf(v, proto);
        Object.setPrototypeOf(e, proto);
        return { actual, expected, outcome: "either", where };
      }
    }
  }
  switch (m.key) {
    case "__proto__":
      Object.defineProperty(v, "__proto__", { value: 1, enumerable: true, configurable: true, writable: true });
      return { actual, expected, outcome: Array.isArray(v) ? "either" : "reject", where };
    case "typo":
    case "seqNo":
      v[m.key] = 1;
      e[m.key] = 1;
      return { actual, expected, outcome: "either", where };
    case "symbol": {
      const s = Symbol("key");
      (v as Record<symbol, unknown>)[s] = 1;
      (e as Record<symbol, unknown>)[s] = 1;
      return { actual, expected, outcome: "either", where };
    }
    case "non-enumerable":
      Object.defineProperty(v, "hidden", { value: 1, enumerable: false });
      return { actual, expected, outcome: "either", where };
    case "undefined":
      if (Array.isArray(v)) v.push(undefined);
      else v.extra = undefined;
      if (Array.isArray(e)) e.push(undefined);
      return { actual, expected, outcome: "either", where };
  }
}
