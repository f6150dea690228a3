import { type CompiledQuery, type Kysely, sql } from "kysely";
import type { EncodedIdentity } from "../../model/codec.js";
import type { Schema } from "../schema.js";
import { compiledOnce } from "./compiled-once.js";
import { triggersWithEffects } from "./triggers-with-effects.js";

/** One row per aggregate: its exact identity and the lowest conflicting seqNo of one kind (action or effect). */
export interface FirstConflictRow {
  kind: string;
  id: string;
  seq_no: number;
}

/**
 * SPEC section 2, rule 3, for a set of aggregates in one statement: per
 * aggregate, the first action on it and the first effect on one of its
 * triggers with `seqNo >= base`, not in `resolved`. The hash finds the rows
 * through the index; the comparisons of kind and id keep only the
 * aggregates asked for, compared exactly; rows are grouped by the hash alone,
 * so the aggregates of one statement must have distinct hashes (see
 * {@link distinctHashRounds}). Grouping by the unbounded id instead would
 * compare only its first `max_sort_length` bytes on MySQL.
 * The effects are met once per aggregate: the aggregates are rows of their
 * own (`v`, a UNION ALL of their values), each effect since `base` is kept
 * where one of the aggregate's trigger rows names its trigger (EXISTS, which
 * stops at the first). A join of the trigger rows and the effects took the
 * MIN of every pair: 10,000 actions carrying a key that 1,000 effects named
 * made a conflicting rebase take 1.1 s on SQLite and 8 s on MariaDB (now 4
 * and 14 ms); the cost is now one index probe per effect since `base` and
 * aggregate (30,000 effects: 2 ms). For SQLite and MariaDB: the values' rows
 * carry no types, which PostgreSQL wants ({@link firstConflictsPerAggregateQuery}).
 */
export function firstConflictsQuery(
  db: Kysely<Schema>,
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
  until?: number,
): CompiledQuery<FirstConflictRow> {
  return compiledCheck(db, "first-conflicts", { base, aggregates, resolved, until }, (check) =>
    buildFirstConflicts(db, check),
  );
}

/** The values of a conflict check: with `until`, the store as it stood when its head was `until`. */
interface ConflictCheck {
  readonly base: number;
  readonly aggregates: readonly EncodedIdentity[];
  readonly resolved: readonly number[];
  readonly until?: number | undefined;
}

/**
 * A conflict check compiled once per shape (the rebase hot path): `build` gets the check with
 * stand-ins for its values, bound in this order: base, resolved, then hash, kind and id of
 * each aggregate, then `until` where given.
 */
function compiledCheck<R>(
  db: Kysely<Schema>,
  name: string,
  { base, aggregates, resolved, until }: ConflictCheck,
  build: (check: ConflictCheck) => CompiledQuery<R>,
): CompiledQuery<R> {
  const values: unknown[] = [base, ...resolved];
  for (const a of aggregates) values.push(a.hash, a.kind, a.id);
  if (until !== undefined) values.push(until);
  const shape = `${name}:${aggregates.length}:${resolved.length}${until === undefined ? "" : ":until"}`;
  return compiledOnce(db, shape, values, (slots) => {
    const at = 1 + resolved.length;
    const shaped = aggregates.map((_, i) => ({
      hash: slots[at + 3 * i],
      kind: slots[at + 3 * i + 1],
      id: slots[at + 3 * i + 2],
    }));
    return build({
      base: slots[0]!,
      resolved: slots.slice(1, at),
      aggregates: shaped as never,
      until: until === undefined ? undefined : slots[at + 3 * aggregates.length],
    });
  });
}

/**
 * The actions of SPEC section 2, rule 3 on `aggregates`, unselected; with `until`, as the store
 * stood when its head was `until` (seqNos are gapless and in commit order). With `byHash`,
 * aggregates are matched by their hash alone: a superset of the rule's actions (two identities
 * may share a hash), for a check that may only err towards "maybe".
 */
function conflictActions(db: Kysely<Schema>, { base, aggregates, resolved, until }: ConflictCheck, byHash = false) {
  const hashes = aggregates.map((a) => a.hash);
  return db
    .selectFrom("actions")
    .where("aggregate_hash", "in", hashes)
    .$if(!byHash, (q) =>
      q.where((eb) =>
        eb.or(aggregates.map((a) => eb.and([eb("aggregate_kind", "=", a.kind), eb("aggregate_id", "=", a.id)]))),
      ),
    )
    .where("seq_no", ">=", base)
    .$if(until !== undefined, (q) => q.where("seq_no", "<=", until as number))
    .$if(resolved.length > 0, (q) => q.where("seq_no", "not in", resolved));
}

/**
 * The trigger-effect pairs of SPEC section 2, rule 3 for `aggregates`, unselected, as
 * {@link conflictActions} reads the actions: for an EXISTS, which stops at the first pair.
 */
function conflictPairs(db: Kysely<Schema>, { base, aggregates, resolved, until }: ConflictCheck) {
  return triggersWithEffects(db)
    .where(
      "t.aggregate_hash",
      "in",
      aggregates.map((a) => a.hash),
    )
    .where((eb) =>
      eb.or(aggregates.map((a) => eb.and([eb("t.aggregate_kind", "=", a.kind), eb("t.aggregate_id", "=", a.id)]))),
    )
    .where("f.seq_no", ">=", base)
    .$if(until !== undefined, (q) =>
      q.where("f.seq_no", "<=", until as number).where("t.seq_no", "<=", until as number),
    )
    .$if(resolved.length > 0, (q) => q.where("f.seq_no", "not in", resolved));
}

/**
 * A trigger row of the aggregate `v` (columns hash, kind, id) naming the trigger of the effect `f`,
 * with `until` one committed by then: for an EXISTS, so that each effect counts once however
 * many of the aggregate's actions carry its trigger.
 */
function triggerRowOfV(db: Kysely<Schema>, until: unknown) {
  return db
    .selectFrom("triggers as t")
    .select(sql.lit(1).as("one"))
    .where(sql<boolean>`t.aggregate_hash = v.hash and t.aggregate_kind = v.kind and t.aggregate_id = v.id`)
    .where(
      sql<boolean>`t.trigger_hash = f.trigger_hash and t.trigger_kind = f.trigger_kind and t.trigger_id = f.trigger_id`,
    )
    .$if(until !== undefined, (q) => q.where("t.seq_no", "<=", until as number));
}

function buildFirstConflicts(db: Kysely<Schema>, check: ConflictCheck): CompiledQuery<FirstConflictRow> {
  const actions = conflictActions(db, check)
    .select((eb) => [
      eb.fn.min("aggregate_kind").as("kind"),
      eb.fn.min("aggregate_id").as("id"),
      eb.fn.min("seq_no").as("seq_no"),
    ])
    .groupBy("aggregate_hash");
  const { base, aggregates, resolved, until } = check;
  const wanted = sql.join(
    aggregates.map((a, i) =>
      i === 0
        ? sql`select ${a.hash} as hash, ${a.kind} as kind, ${a.id} as id`
        : sql`select ${a.hash}, ${a.kind}, ${a.id}`,
    ),
    sql` union all `,
  );
  const effects = db
    .selectFrom(sql<{ hash: number; kind: string; id: string }>`(${wanted})`.as("v"))
    .innerJoin("effects as f", (join) => join.onTrue())
    .where("f.seq_no", ">=", base)
    .$if(until !== undefined, (q) => q.where("f.seq_no", "<=", until as number))
    .$if(resolved.length > 0, (q) => q.where("f.seq_no", "not in", resolved))
    .where((eb) => eb.exists(triggerRowOfV(db, until)))
    .select((eb) => [eb.fn.min("v.kind").as("kind"), eb.fn.min("v.id").as("id"), eb.fn.min("f.seq_no").as("seq_no")])
    .groupBy("v.hash");
  return actions.unionAll(effects as never).compile() as CompiledQuery<FirstConflictRow>;
}

/**
 * Whether any of `aggregates` has a conflict (SPEC section 2, rule 3): one row,
 * one boolean column, `select (exists (…actions…) or exists (…effects…))`, for
 * a guard to use as a scalar subquery. No grouping and no union, so the server
 * needs no temporary table. Binds {@link firstConflictsParameters} values.
 */
export function anyConflictQuery(
  db: Kysely<Schema>,
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
): CompiledQuery<{ conflict: unknown }> {
  return compiledCheck(db, "any-conflict", { base, aggregates, resolved }, (check) => {
    const actions = conflictActions(db, check);
    const effects = conflictPairs(db, check);
    return db
      .selectNoFrom((eb) =>
        eb
          .or([eb.exists(actions.select(sql.lit(1).as("one"))), eb.exists(effects.select(sql.lit(1).as("one")))])
          .as("conflict"),
      )
      .compile();
  });
}

/**
 * {@link anyConflictQuery} as a superset that a server answers cheaply
 * (`SqlDialect.conflictGuard` `"coarse"`, MariaDB): true where an action on
 * one of the aggregates' hashes (not in `resolved`), or any effect at all,
 * has `seqNo >= base`. It may answer true for an identity that merely shares
 * a hash with a changed one, or for an effect on a trigger none of the
 * aggregates carries: the guard then refuses, and the exact rules decide.
 * Without resolved seqNos the action half is a MAX over the aggregate index
 * and the effect half a MAX of the primary key, which MariaDB 10.11 answers
 * while it optimizes (`Select tables optimized away`); the exact effect half,
 * a join of triggers and effects, is planned under the write lock even when
 * the store holds no effect. A guard on one aggregate took 0.30 ms of server
 * time instead of 0.60 (median of 800, `SHOW PROFILES`).
 */
export function anyChangeQuery(
  db: Kysely<Schema>,
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
): CompiledQuery<{ conflict: unknown }> {
  return compiledCheck(db, "any-change", { base, aggregates, resolved }, (check) => {
    const actions = conflictActions(db, check, true);
    return db
      .selectNoFrom((eb) =>
        eb
          .or([
            check.resolved.length === 0
              ? eb(
                  actions.select((e) => e.fn.max("seq_no").as("m")),
                  "is not",
                  null,
                )
              : eb.exists(actions.select(sql.lit(1).as("one"))),
            eb(
              db.selectFrom("effects").select((e) => e.fn.max("seq_no").as("m")),
              ">=",
              check.base as number,
            ),
          ])
          .as("conflict"),
      )
      .compile();
  });
}

/** The parameters {@link firstConflictsQuery} binds for `n` aggregates, `bounded` by an `until` (bound 3 times). */
export function firstConflictsParameters(n: number, resolved: number, bounded = false): number {
  return 6 * n + 2 + 2 * resolved + (bounded ? 3 : 0);
}

/**
 * Splits aggregates into rounds whose hashes are distinct, as
 * {@link firstConflictsQuery} needs: a hash shared by two aggregates (a
 * collision, or a crafted id) puts the second into a later round.
 */
export function distinctHashRounds(aggregates: readonly EncodedIdentity[]): EncodedIdentity[][] {
  const rounds: EncodedIdentity[][] = [];
  const seen = new Map<number, number>();
  for (const a of aggregates) {
    const round = seen.get(a.hash) ?? 0;
    seen.set(a.hash, round + 1);
    if (round === rounds.length) rounds.push([]);
    rounds[round]?.push(a);
  }
  return rounds;
}

/** The values a per-aggregate check binds, as its shape's slots stand for them. */
interface PerAggregateCheck {
  readonly hashes: unknown;
  readonly kinds: unknown;
  readonly ids: unknown;
  readonly base: unknown;
  readonly resolved: unknown;
  readonly until?: unknown;
}

/** The values of a per-aggregate check in slot order: the aggregates as three arrays, then base, resolved and `until` where given. */
function perAggregateValues(
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
  until?: number,
): unknown[] {
  const values: unknown[] = [
    aggregates.map((a) => a.hash),
    aggregates.map((a) => a.kind),
    aggregates.map((a) => a.id),
    base,
    resolved,
  ];
  if (until !== undefined) values.push(until);
  return values;
}

/**
 * The rows and sources of a per-aggregate check (SPEC section 2, rule 3):
 * `rows(lateral)` joins each aggregate of the unnest rows `v` to the lateral
 * subquery `lateral` makes of a source; `actions` and `effects` are the
 * actions on `v` and the trigger-effect pairs of `v` with `seqNo >= base`,
 * not in `resolved`, with `until` at most that, unselected.
 */
function perAggregateSources(db: Kysely<Schema>, { hashes, kinds, ids, base, resolved, until }: PerAggregateCheck) {
  // pg_catalog's, by name: an overload another role made in a schema on the search path would match better.
  const wanted = sql`rows from (pg_catalog.unnest(${hashes}::bigint[]), pg_catalog.unnest(${kinds}::text[]), pg_catalog.unnest(${ids}::text[])) as v(hash, kind, id)`;
  // biome-ignore lint/suspicious/noExplicitAny: the unnest rows are no relation of the schema
  const rows = (lateral: () => any): any =>
    // biome-ignore lint/suspicious/noExplicitAny: see above
    (db as any).selectFrom(wanted).innerJoinLateral(lateral, (join: any) => join.onTrue());
  const actions = db
    .selectFrom("actions as a")
    .where(sql<boolean>`a.aggregate_hash = v.hash and a.aggregate_kind = v.kind and a.aggregate_id = v.id`)
    .where("a.seq_no", ">=", base as number)
    .$if(until !== undefined, (q) => q.where("a.seq_no", "<=", until as number))
    .where(sql<boolean>`not (a.seq_no = any(${resolved}::bigint[]))`);
  // Each effect once, however many actions of the aggregate carry its trigger: a join of the trigger
  // rows and the effects took the MIN of 10,000 x 1,000 pairs when 1,000 effects named the key
  // of 10,000 actions. A semi-join leaves the planner both ways round: from the effects since
  // `base`, or from the aggregate's triggers.
  const effects = db
    .selectFrom("effects as f")
    .where("f.seq_no", ">=", base as number)
    .$if(until !== undefined, (q) => q.where("f.seq_no", "<=", until as number))
    .where(sql<boolean>`not (f.seq_no = any(${resolved}::bigint[]))`)
    .where((eb) => eb.exists(triggerRowOfV(db, until)));
  return { rows, actions, effects };
}

/** The stand-ins of {@link perAggregateValues}, named. */
function perAggregateSlots(slots: readonly unknown[], bounded: boolean): PerAggregateCheck {
  const [hashes, kinds, ids, base, resolved, until] = slots;
  return { hashes, kinds, ids, base, resolved, until: bounded ? until : undefined };
}

/**
 * {@link anyConflictQuery} as one index probe per aggregate, for a dialect
 * whose planner may misjudge an `IN` list (`SqlDialect.conflictGuard`
 * `"per-aggregate"`, PostgreSQL): the aggregates travel as three arrays
 * (hash, kind, id), `unnest` makes them rows, and a lateral subquery with
 * `LIMIT 1` looks each one up through the aggregate index. Whatever the
 * statistics say, no plan reads the relation through; one statement text
 * serves every number of aggregates.
 */
export function anyConflictPerAggregateQuery(
  db: Kysely<Schema>,
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
): CompiledQuery<{ conflict: unknown }> {
  const values = perAggregateValues(base, aggregates, resolved);
  return compiledOnce(db, "any-conflict-per-aggregate", values, (slots) => {
    const { rows, actions, effects } = perAggregateSources(db, perAggregateSlots(slots, false));
    const one = sql.lit(1).as("one");
    const actionRows = rows(() => actions.select(one).limit(1).as("x"));
    const effectRows = rows(() => effects.select(one).limit(1).as("y"));
    return db
      .selectNoFrom((eb) =>
        eb.or([eb.exists(actionRows.select(one)), eb.exists(effectRows.select(one))]).as("conflict"),
      )
      .compile();
  });
}

/**
 * {@link firstConflictsQuery} as one index probe per aggregate (see
 * {@link anyConflictPerAggregateQuery}): per aggregate, the lowest action and
 * the lowest effect on one of its triggers with `seqNo >= base`, not in
 * `resolved` (an array), and with `until` at most that. Rows are the
 * aggregates' own kind and id, so aggregates may share a hash; one statement
 * serves any number of aggregates and of resolved seqNos.
 */
export function firstConflictsPerAggregateQuery(
  db: Kysely<Schema>,
  base: number,
  aggregates: readonly EncodedIdentity[],
  resolved: readonly number[],
  until?: number,
): CompiledQuery<FirstConflictRow> {
  const values = perAggregateValues(base, aggregates, resolved, until);
  const shape = `first-conflicts-per-aggregate${until === undefined ? "" : ":until"}`;
  return compiledOnce(db, shape, values, (slots) => {
    const { rows, actions, effects } = perAggregateSources(db, perAggregateSlots(slots, until !== undefined));
    const actionRows = rows(() => actions.select((e) => e.fn.min("a.seq_no").as("seq_no")).as("x"))
      .select(["v.kind", "v.id", "x.seq_no"])
      .where("x.seq_no", "is not", null);
    const effectRows = rows(() => effects.select((e) => e.fn.min("f.seq_no").as("seq_no")).as("y"))
      .select(["v.kind", "v.id", "y.seq_no"])
      .where("y.seq_no", "is not", null);
    return actionRows.unionAll(effectRows).compile();
  });
}
