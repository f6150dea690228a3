import type { Identity, Kind, StoredAction } from "../model/types.js";

/**
 * SQL on the transaction that also moves the projection's checkpoint, in the
 * database's own syntax and placeholders (`?` on SQLite and MySQL, `$1` on
 * PostgreSQL). What it writes commits with the checkpoint or not at all.
 *
 * @example
 * await ctx.sql?.run("insert into book_titles (title) values (?)", [String(event.action.aggregate[1])]);
 */
export interface ProjectionSql {
  /** Which syntax to write (`mysql` for MariaDB too). */
  readonly dialect: "sqlite" | "postgres" | "mysql";
  /** Runs a query and returns its rows. */
  all<R = Record<string, unknown>>(sql: string, parameters?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement for its effect. */
  run(sql: string, parameters?: readonly unknown[]): Promise<void>;
}

/**
 * What `apply`, `reset` and `clear` get: on a SQL store, the transaction that
 * moves the checkpoint; on the memory store, nothing to run SQL on.
 *
 * @example
 * const apply = async (event: StoredAction, ctx: ProjectionContext) => {
 *   if (ctx.sql) await ctx.sql.run("insert into seen (seq_no) values (?)", [event.seqNo]);
 * };
 */
export interface ProjectionContext {
  /** Present on SQL stores: run the read model's SQL here to apply each event exactly once. */
  readonly sql: ProjectionSql | undefined;
  /** True while the actions of an aggregate are re-applied because an effect replayed it (after `reset`). */
  readonly replay: boolean;
}

/**
 * What every projection has: the name of its checkpoint, the actions it
 * follows, and how it forgets. {@link Projection} applies one action at a
 * time; {@link BatchProjection} applies a batch at once.
 */
export interface ProjectionBase {
  /** Names its checkpoint: a `Kind` (non-empty, at most 200 characters). */
  readonly name: string;
  /** Only these aggregates' actions. */
  readonly aggregates?: readonly Identity[];
  /** Only actions on aggregates of these kinds. */
  readonly kinds?: readonly Kind[];
  /**
   * Forgets one aggregate's read model: called when an effect replays that
   * aggregate, before its actions are applied again from the first. Without
   * it, the replayed actions are applied on top of what is there.
   */
  reset?(aggregate: Identity, ctx: ProjectionContext): void | Promise<void>;
  /** Empties the whole read model, for {@link rebuildProjection}. */
  clear?(ctx: ProjectionContext): void | Promise<void>;
}

/**
 * A read model kept up to date from the store. Its checkpoint (the head up to
 * which everything was applied) is kept by coherence-store, in the same
 * database on SQL stores and in the same transaction as what `apply` runs on
 * `ctx.sql`, so such a read model gets every action exactly once across
 * crashes and restarts. A read model kept elsewhere gets them at least once.
 *
 * @example
 * const titles: Projection = {
 *   name: "book-titles",
 *   kinds: ["book"],
 *   async apply(event, ctx) {
 *     await ctx.sql?.run("insert or replace into titles (title, seq_no) values (?, ?)",
 *       [String(event.action.aggregate[1]), event.seqNo]);
 *   },
 *   async reset(aggregate, ctx) {
 *     await ctx.sql?.run("delete from titles where title = ?", [String(aggregate[1])]);
 *   },
 *   async clear(ctx) {
 *     await ctx.sql?.run("delete from titles");
 *   },
 * };
 */
export interface Projection extends ProjectionBase {
  /** Applies one action to the read model. */
  apply(event: StoredAction, ctx: ProjectionContext): void | Promise<void>;
}

/**
 * A {@link Projection} that applies the actions of a batch at once, in seqNo
 * order, so that a read model can take them in one multi-row statement
 * instead of one round trip each. Where effects replay aggregates, each
 * one's `reset` comes before the call that holds its first replayed action;
 * the actions of one call are all replays or all not (`ctx.replay`), and no
 * call holds an action that a later `reset` forgets.
 *
 * @example
 * const titles: BatchProjection = {
 *   name: "book-titles",
 *   kinds: ["book"],
 *   async applyBatch(events, ctx) {
 *     const rows = events.map(() => "(?, ?)").join(", ");
 *     await ctx.sql?.run(`insert or replace into titles (title, seq_no) values ${rows}`,
 *       events.flatMap((e) => [String(e.action.aggregate[1]), e.seqNo]));
 *   },
 * };
 */
export interface BatchProjection extends ProjectionBase {
  /** Applies actions to the read model, in seqNo order: never an empty list. */
  applyBatch(events: readonly StoredAction[], ctx: ProjectionContext): void | Promise<void>;
}

/**
 * Where a projection stands.
 *
 * @example
 * for (const p of await listProjections(store)) console.log(p.name, p.checkpoint, p.lag);
 */
export interface ProjectionStatus {
  readonly name: string;
  /** Everything up to this seqNo has been applied. */
  readonly checkpoint: number;
  /** The store's head when the status was read. */
  readonly head: number;
  /** `head - checkpoint`: how many events it has yet to go through (effects and others' actions included). */
  readonly lag: number;
  /** When the checkpoint last moved. */
  readonly updatedAt: Date;
}

/**
 * Options of {@link runProjection}.
 *
 * @example
 * const controller = new AbortController();
 * await runProjection(store, titles, { signal: controller.signal, batchSize: 500 });
 */
export interface RunProjectionOptions {
  /** Stops the runner (it resolves) when it aborts. */
  readonly signal?: AbortSignal;
  /**
   * Called each time the read model holds everything committed so far, with
   * that head. A promise it returns is awaited: its rejection rejects the runner.
   */
  readonly onCaughtUp?: (head: number) => unknown;
  /** Actions applied per transaction (default 100), and at most per `applyBatch` call: larger batches commit less often. */
  readonly batchSize?: number;
}
