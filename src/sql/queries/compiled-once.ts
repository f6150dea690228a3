import type { CompiledQuery, Kysely } from "kysely";
import type { Schema } from "../schema.js";

/** A stand-in for the n-th value while a query shape is compiled: Kysely binds it as a parameter like any value. */
class Slot {
  constructor(readonly index: number) {}
}

interface Template {
  readonly query: CompiledQuery;
  /** For each bound parameter of the SQL: the index of the value it takes, or -1 for a constant of the shape. */
  readonly slots: readonly number[];
}

/** Shapes compiled per Kysely instance (one per store, so per dialect and table names). */
const templates = new WeakMap<Kysely<Schema>, Map<string, Template>>();
/** Enough for every shape a store uses (lists are chunked); a burst of odd shapes only costs a recompile. */
const MAX_SHAPES = 1000;

/**
 * Compiles a query once per shape and then only binds values: building and
 * compiling with Kysely costs tens of microseconds, more than a SQLite lookup,
 * and the SQL text stays the same so the drivers' prepared-statement caches hit.
 * `shape` must determine the SQL completely (list lengths, optional clauses);
 * `build` gets stand-ins for `values`, in order, to use wherever a value goes;
 * any other value it binds is a constant of the shape.
 *
 * @example
 * compiledOnce(db, `head`, [], () => db.selectFrom("events").select(...).compile());
 */
export function compiledOnce<R>(
  db: Kysely<Schema>,
  shape: string,
  values: readonly unknown[],
  build: (slots: readonly never[]) => CompiledQuery<R>,
): CompiledQuery<R> {
  let cache = templates.get(db);
  if (cache === undefined) {
    cache = new Map();
    templates.set(db, cache);
  }
  let template = cache.get(shape);
  if (template === undefined) {
    const query = build(values.map((_, i) => new Slot(i) as never));
    // Anything else bound (a LIMIT 1 in the builder) is a constant of the shape, kept from the template.
    const slots = query.parameters.map((p) => (p instanceof Slot ? p.index : -1));
    template = { query, slots };
    if (cache.size >= MAX_SHAPES) cache.clear();
    cache.set(shape, template);
  }
  const constants = template.query.parameters;
  const parameters = template.slots.map((i, at) => (i < 0 ? constants[at] : values[i]));
  return { ...template.query, parameters } as CompiledQuery<R>;
}
