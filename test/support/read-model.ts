import {
  applyPatch,
  type BatchProjection,
  deleteProjection,
  type Json,
  type Projection,
  type ProjectionContext,
  type ProjectionSql,
  rebuildProjection,
  runProjection,
  type Store,
} from "../../src/index.js";

type State = { [key: string]: Json };

/** What a test read model holds: each aggregate's folded state, and a log of every apply. */
export interface ReadModelContents {
  readonly states: Record<string, State>;
  /** `seqNo` or `seqNo r` (a replay), in the order applied since the last rebuild. */
  readonly log: string[];
}

/** `?` on SQLite and MySQL, `$n` on PostgreSQL. */
function placeholders(sql: ProjectionSql, n: number): string[] {
  return Array.from({ length: n }, (_, i) => (sql.dialect === "postgres" ? `$${i + 1}` : "?"));
}

const keyOf = (aggregate: readonly [string, unknown]) => JSON.stringify(aggregate);

/**
 * A projection folding every aggregate's patches, kept in SQL tables of the
 * store's own database when there is one (exactly once), else in memory.
 */
export function foldProjection(name: string, table = "rm"): Projection & { memory: ReadModelContents } {
  const memory = { states: {} as Record<string, State>, log: [] as string[] };
  const put = async (ctx: ProjectionContext, key: string, state: State | undefined) => {
    if (!ctx.sql) {
      if (state === undefined) delete memory.states[key];
      else memory.states[key] = state;
      return;
    }
    const [a, b] = placeholders(ctx.sql, 2);
    await ctx.sql.run(`delete from ${table}_states where agg = ${a}`, [key]);
    if (state !== undefined)
      await ctx.sql.run(`insert into ${table}_states (agg, state) values (${a}, ${b})`, [key, JSON.stringify(state)]);
  };
  return {
    name,
    memory,
    async apply(event, ctx) {
      const key = keyOf(event.action.aggregate);
      const entry = `${event.seqNo}${ctx.replay ? " r" : ""}`;
      let state: State = {};
      if (ctx.sql) {
        const [a] = placeholders(ctx.sql, 1);
        const rows = await ctx.sql.all<{ state: string }>(`select state from ${table}_states where agg = ${a}`, [key]);
        if (rows[0]) state = JSON.parse(rows[0].state);
        const [x, y] = placeholders(ctx.sql, 2);
        await ctx.sql.run(`insert into ${table}_log (entry, position) values (${x}, ${y})`, [entry, Date.now()]);
      } else {
        state = memory.states[key] ?? {};
        memory.log.push(entry);
      }
      await put(ctx, key, applyPatch(state, event.action.patch));
    },
    async reset(aggregate, ctx) {
      await put(ctx, keyOf(aggregate), undefined);
    },
    async clear(ctx) {
      if (!ctx.sql) {
        memory.states = {};
        memory.log.length = 0;
        return;
      }
      const text = ctx.sql.dialect === "mysql" ? "varchar(400)" : "text";
      const id =
        ctx.sql.dialect === "postgres"
          ? "bigserial"
          : ctx.sql.dialect === "mysql"
            ? "bigint auto_increment"
            : "integer";
      await ctx.sql.run(`create table if not exists ${table}_states (agg ${text} primary key, state text not null)`);
      await ctx.sql.run(
        `create table if not exists ${table}_log (id ${id} primary key, entry ${text} not null, position bigint not null)`,
      );
      await ctx.sql.run(`delete from ${table}_states`);
      await ctx.sql.run(`delete from ${table}_log`);
    },
  };
}

/**
 * {@link foldProjection} as a {@link BatchProjection}: each call reads the
 * states of its aggregates in one query, folds its actions in memory, and
 * writes the states and the log in one multi-row statement each, as a read
 * model built for batches would. `calls` records each call's seqNos and
 * `ctx.replay`.
 */
export function foldBatchProjection(
  name: string,
  table = "rm",
): BatchProjection & { memory: ReadModelContents; calls: { seqNos: number[]; replay: boolean }[] } {
  const one = foldProjection(name, table);
  const { memory } = one;
  const calls: { seqNos: number[]; replay: boolean }[] = [];
  return {
    name,
    memory,
    calls,
    reset: one.reset,
    clear: one.clear,
    async applyBatch(events, ctx) {
      calls.push({ seqNos: events.map((e) => e.seqNo), replay: ctx.replay });
      const keys = [...new Set(events.map((e) => keyOf(e.action.aggregate)))];
      const entries = events.map((e) => `${e.seqNo}${ctx.replay ? " r" : ""}`);
      const states = new Map<string, State>();
      if (!ctx.sql) {
        for (const key of keys) states.set(key, memory.states[key] ?? {});
        memory.log.push(...entries);
      } else {
        const p = placeholders(ctx.sql, keys.length * 2 + entries.length * 2);
        const rows = await ctx.sql.all<{ agg: string; state: string }>(
          `select agg, state from ${table}_states where agg in (${p.slice(0, keys.length).join(", ")})`,
          keys,
        );
        for (const key of keys) states.set(key, {});
        for (const r of rows) states.set(r.agg, JSON.parse(r.state));
        const log = entries.map((_, i) => `(${p[2 * i]}, ${p[2 * i + 1]})`).join(", ");
        await ctx.sql.run(
          `insert into ${table}_log (entry, position) values ${log}`,
          entries.flatMap((entry) => [entry, Date.now()]),
        );
      }
      for (const e of events) {
        const key = keyOf(e.action.aggregate);
        states.set(key, applyPatch(states.get(key) ?? {}, e.action.patch));
      }
      if (!ctx.sql) {
        for (const [key, state] of states) memory.states[key] = state;
        return;
      }
      const p = placeholders(ctx.sql, keys.length * 2);
      await ctx.sql.run(`delete from ${table}_states where agg in (${p.slice(0, keys.length).join(", ")})`, keys);
      const values = keys.map((_, i) => `(${p[2 * i]}, ${p[2 * i + 1]})`).join(", ");
      await ctx.sql.run(
        `insert into ${table}_states (agg, state) values ${values}`,
        keys.flatMap((key) => [key, JSON.stringify(states.get(key))]),
      );
    },
  };
}

/** Runs a projection until it has applied everything the store holds, then stops it. */
export async function catchUp(
  store: Store,
  projection: Projection | BatchProjection,
  batchSize?: number,
): Promise<void> {
  const head = await store.currentSeqNo();
  const controller = new AbortController();
  await runProjection(store, projection, {
    signal: controller.signal,
    batchSize,
    onCaughtUp: (h) => {
      if (h >= head) controller.abort();
    },
  });
}

/** Runs `work` in a projection transaction of the store's (a throwaway projection's `clear`): {@link readModel}'s `run`. */
export function reader(store: Store): (work: (ctx: ProjectionContext) => Promise<void>) => Promise<void> {
  return async (work) => {
    await rebuildProjection(store, { name: "test-reader", apply() {}, clear: work });
    await deleteProjection(store, "test-reader");
  };
}

/** Reads the read model of {@link foldProjection} back, through a throwaway transaction. */
export async function readModel(
  run: (work: (ctx: ProjectionContext) => Promise<void>) => Promise<void>,
  memory: ReadModelContents,
  table = "rm",
): Promise<ReadModelContents> {
  let out: ReadModelContents = { states: { ...memory.states }, log: [...memory.log] };
  await run(async (ctx) => {
    if (!ctx.sql) return;
    const states: Record<string, State> = {};
    for (const r of await ctx.sql.all<{ agg: string; state: string }>(`select agg, state from ${table}_states`))
      states[r.agg] = JSON.parse(r.state);
    const log = await ctx.sql.all<{ entry: string }>(`select entry from ${table}_log order by id`);
    out = { states, log: log.map((r) => r.entry) };
  });
  return out;
}

/** What the read model must hold: every aggregate's state as the store folds it. */
export async function expectedStates(store: Store): Promise<Record<string, State>> {
  const keys = new Map<string, readonly [string, string | number]>();
  for await (const e of store.stream()) keys.set(keyOf(e.action.aggregate), e.action.aggregate);
  const out: Record<string, State> = {};
  for (const [key, aggregate] of keys) {
    const a = await store.aggregate(aggregate);
    if (a) out[key] = a.state;
  }
  return out;
}
