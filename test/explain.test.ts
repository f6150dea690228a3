import type { CompiledQuery } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { UNBOUNDED } from "../src/backend.js";
import { DEFAULT_TABLES, type NewEvent } from "../src/index.js";
import { type EncodedIdentity, encodeIdentity } from "../src/model/codec.js";
import type { HeadlessAppend, SqlDialect, SqlDriver } from "../src/sql/dialect.js";
import { MysqlDialect } from "../src/sql/dialects/mysql/mysql-dialect.js";
import { MysqlDriver } from "../src/sql/dialects/mysql/mysql-driver.js";
import { PostgresDialect } from "../src/sql/dialects/postgres/postgres-dialect.js";
import { PostgresDriver } from "../src/sql/dialects/postgres/postgres-driver.js";
import { SqliteDialect } from "../src/sql/dialects/sqlite/sqlite-dialect.js";
import { SqliteDriver } from "../src/sql/dialects/sqlite/sqlite-driver.js";
import { actionPageQuery } from "../src/sql/queries/action-page.js";
import {
  anyChangeQuery,
  anyConflictPerAggregateQuery,
  anyConflictQuery,
  firstConflictsPerAggregateQuery,
  firstConflictsQuery,
} from "../src/sql/queries/first-conflicts.js";
import { headAndEffectsQuery } from "../src/sql/queries/head.js";
import { patchPageQuery } from "../src/sql/queries/patch-page.js";
import { replayPageQuery } from "../src/sql/queries/replay-page.js";
import { SqlBackend } from "../src/sql/sql-backend.js";
import { derivedName } from "../src/sql/tables.js";
import { type StoreFactory, storesNamed } from "./stores.js";
import { act, collect, eff } from "./support/events.js";

const AGGREGATES = 2000;
const PER_AGGREGATE = 5;

/** The planner of each server store: how to read a plan, and the indexes it names. */
const PLANNERS: Record<
  string,
  {
    dialect: () => SqlDialect;
    driver: (url: string) => SqlDriver;
    analyze: string[];
    explain: (sql: string) => string;
    indexes: (rows: unknown[]) => string;
    /** The index of the conflict check, filtered streams and aggregate(). */
    aggregateIndex: string;
    /** A plan that reads a relation whole. */
    fullScan: RegExp;
  }
> = {
  sqlite: {
    dialect: () => new SqliteDialect(),
    driver: (url) => new SqliteDriver(url.replace(/^sqlite:/, "")),
    analyze: ["analyze"],
    explain: (sql) => `explain query plan ${sql}`,
    indexes: (rows) => (rows as { detail: string }[]).map((r) => r.detail).join("; "),
    aggregateIndex: "actions_identity",
    // SCAN of a relation, by rows or by a whole index; `r` and `e` are the few rows the replay's subqueries
    // made, `v` the aggregates of the conflict check.
    fullScan: /SCAN (?!r\b|e\b|v\b|CONSTANT)/,
  },
  postgres: {
    dialect: () => new PostgresDialect(),
    driver: (url) => new PostgresDriver({ url }, DEFAULT_TABLES.event),
    analyze: ["analyze"],
    explain: (sql) => `explain (format json) ${sql}`,
    // Only the plan nodes that read an index carry "Index Name".
    indexes: (rows) => JSON.stringify(rows),
    aggregateIndex: "actions_aggregate",
    fullScan: /Seq Scan/,
  },
  mysql: {
    dialect: () => new MysqlDialect(),
    driver: (url) =>
      new MysqlDriver(
        { url },
        { event: DEFAULT_TABLES.event, meta: derivedName(DEFAULT_TABLES, "meta") },
        "write-lock",
      ),
    analyze: ["analyze table events, actions, effects, triggers"],
    explain: (sql) => `explain ${sql}`,
    // The index each table is read through (`possible_keys` only lists candidates), or ALL for a full scan.
    indexes: (rows) =>
      (rows as { table: string | null; key: string | null; type: string }[])
        // `<derived2>`, `<subquery2>`: the few rows a subquery made, read whole by design; no table: a select of values.
        .filter((r) => r.table !== null && !r.table.startsWith("<"))
        .map((r) => `${r.table}:${r.key ?? r.type}`)
        .join(","),
    aggregateIndex: "actions_aggregate",
    fullScan: /:ALL(,|$)/,
  },
};

/** The PostgreSQL plan nodes that join. */
const JOINS = new Set(["Nested Loop", "Hash Join", "Merge Join"]);

/**
 * The rows the plan of a statement read and joined, run by the server store: per scan or join
 * node, the rows it gave times the times it ran, summed (PostgreSQL), or per table read, the rows
 * read times the loops (MariaDB). A count of work, not of time.
 */
const ROWS_READ: Record<string, ((rows: unknown[]) => number) & { prefix: string }> = {
  postgres: Object.assign(
    (rows: unknown[]) => {
      let total = 0;
      const walk = (node: Record<string, unknown>) => {
        // Reads of a relation and joins; not the rescans of a sorted or hashed result.
        if (node["Relation Name"] !== undefined || JOINS.has(node["Node Type"] as string))
          total += Number(node["Actual Rows"] ?? 0) * Number(node["Actual Loops"] ?? 1);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      const plan = (rows[0] as { "QUERY PLAN": { Plan: Record<string, unknown> }[] })["QUERY PLAN"][0];
      if (plan) walk(plan.Plan);
      return total;
    },
    { prefix: "explain (analyze, format json)" },
  ),
  mysql: Object.assign(
    (rows: unknown[]) => {
      let total = 0;
      const walk = (value: unknown) => {
        if (Array.isArray(value)) for (const v of value) walk(v);
        else if (value !== null && typeof value === "object") {
          const node = value as Record<string, unknown>;
          if (typeof node.table_name === "string" && node.r_rows !== undefined)
            total += Number(node.r_rows) * Number(node.r_loops ?? 1);
          for (const v of Object.values(node)) walk(v);
        }
      };
      walk(JSON.parse(Object.values(rows[0] as Record<string, string>)[0] as string));
      return total;
    },
    { prefix: "analyze format=json" },
  ),
};

/** The first-conflicts statement the store runs on this dialect. */
function firstConflictsOf(backend: SqlBackend, aggregates: EncodedIdentity[], until?: number): CompiledQuery {
  return backend.dialect.conflictGuard === "per-aggregate"
    ? firstConflictsPerAggregateQuery(backend.db, 1, aggregates, [], until)
    : firstConflictsQuery(backend.db, 1, aggregates, [], until);
}

function testPlans(factory: StoreFactory): void {
  const planner = PLANNERS[factory.name];
  if (!planner) return;
  describe(`query plans use the indexes: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it(`with ${AGGREGATES * PER_AGGREGATE} actions on ${AGGREGATES} aggregates: the conflict check, the replay, filtered streams and aggregate() read through the indexes`, async () => {
      const store = await factory.create();
      // Small tables are scanned whatever the indexes: fill it first.
      for (let round = 0; round < PER_AGGREGATE; round++) {
        const history: NewEvent[] = Array.from({ length: AGGREGATES }, (_, a) =>
          act(["agg", a], { assoc: { round } }, { triggers: [["key", a]] }),
        );
        // Effects on keys nobody carries fill the effects relation; one replays an aggregate.
        for (let e = 0; e < AGGREGATES / 2; e++) history.push(eff(["gone", `${round}/${e}`]));
        if (round === PER_AGGREGATE - 1) history.push(eff(["key", 7]));
        expect((await store.rebase((await store.currentSeqNo()) + 1, history)).result).toBe("ok");
      }
      const head = await store.currentSeqNo();
      const driver = planner.driver(factory.lastUrl as string);
      const backend = new SqlBackend(planner.dialect(), driver, DEFAULT_TABLES);
      try {
        const plan = (q: CompiledQuery) =>
          driver.read(async (s) => {
            for (const sql of planner.analyze) await s.run({ sql, parameters: [] });
            return planner.indexes(await s.all({ sql: planner.explain(q.sql), parameters: q.parameters }));
          });
        const agg = encodeIdentity(["agg", 7]);

        // A base far back: by seqNo, every row since would be read.
        const identityIndex = backend.dialect.identityIndex;
        const conflicts = await plan(firstConflictsOf(backend, [agg]));
        expect(conflicts).toContain(planner.aggregateIndex);

        // The conflict guard of the one-round-trip rebase, on the servers.
        const coarse = backend.dialect.conflictGuard === "coarse";
        const guardCheck = coarse ? anyChangeQuery : anyConflictQuery;
        const anyConflict = await plan(guardCheck(backend.db, 1, [agg], []));
        if (coarse) {
          // One aggregate, no resolved seqNos: both halves are MAXes read off the ends of the
          // indexes while the server optimizes; no relation is read.
          const extras = await driver.read(async (s) => {
            const q = anyChangeQuery(backend.db, 1, [agg], []);
            const rows = await s.all<{ Extra: string | null }>({ sql: `explain ${q.sql}`, parameters: q.parameters });
            return rows.map((r) => r.Extra ?? "");
          });
          expect(extras.filter((e) => e === "Select tables optimized away")).toHaveLength(2);
          expect(anyConflict).toBe("");
          // Several aggregates, resolved seqNos: through the aggregate index.
          for (const resolved of [[], [3, 5]]) {
            const several = await plan(anyChangeQuery(backend.db, 1, [agg, encodeIdentity(["agg", 8])], resolved));
            expect(several).toContain(planner.aggregateIndex);
          }
        } else expect(anyConflict).toContain(planner.aggregateIndex);
        if (backend.dialect.conflictGuard === "per-aggregate") {
          const first = await plan(
            firstConflictsPerAggregateQuery(backend.db, 1, [agg, encodeIdentity(["agg", 8])], [3]),
          );
          expect(first).toContain(planner.aggregateIndex);
          const perAggregate = await plan(
            anyConflictPerAggregateQuery(backend.db, 1, [agg, encodeIdentity(["agg", 8])], [3]),
          );
          expect(perAggregate).toContain(planner.aggregateIndex);
        }
        if (factory.name === "mysql") {
          // No temporary table under the guard: MariaDB 10.11 runs its subquery while it
          // optimizes the guard, under the write lock.
          const guard = (backend.dialect.headless as HeadlessAppend).guard(
            1,
            guardCheck(backend.db, 1, [agg, encodeIdentity(["agg", 8])], [3, 5]),
          );
          const extras = await driver.read(async (s) => {
            await s.run({ sql: "set @coherence_head = ?", parameters: [head] });
            const rows = await s.all<{ Extra: string | null }>({
              sql: `explain ${guard.sql}`,
              parameters: guard.parameters,
            });
            return rows.map((r) => r.Extra ?? "").join("; ");
          });
          expect(extras).not.toContain("temporary");
        }

        const replay = await plan(replayPageQuery(backend.db, {}, head, head, 0, 2000, undefined, identityIndex));
        expect(replay).toContain("triggers_trigger");

        const filter = { aggregates: [agg, encodeIdentity(["agg", 8])] };
        const filtered = await plan(actionPageQuery(backend.db, filter, 0, head, 2000, undefined, identityIndex));
        expect(filtered).toContain(planner.aggregateIndex);

        // The page as aggregate() reads it: kind and id compared in SQL where the dialect does.
        const aggregate = await plan(
          patchPageQuery(backend.db, agg, 0, head, 2000, undefined, backend.dialect.identityInSql),
        );
        expect(aggregate).toContain(planner.aggregateIndex);
        // A stream's first page, read before any head: the first rows by seqNo.
        const first = await plan(actionPageQuery(backend.db, {}, 0, UNBOUNDED, 2000, undefined, identityIndex));
        // A follower's read of the head and of whether an effect came since what it delivered.
        const headAndEffects = await plan(headAndEffectsQuery(backend.db, head - 10));
        // And no table is read whole.
        for (const p of [conflicts, anyConflict, replay, filtered, aggregate, first, headAndEffects]) {
          expect(p).not.toMatch(planner.fullScan);
        }
      } finally {
        await backend.close();
      }
    });

    const rowsRead = ROWS_READ[factory.name];
    if (rowsRead) {
      it("the replay and the conflict check read each trigger row and each effect a bounded number of times, however many effects share a trigger", async () => {
        // 300 actions on 3 aggregates, all carrying one key that 200 effects name: pairing each
        // trigger row with each effect on its key reads 60,000 rows.
        const store = await factory.create();
        const history: NewEvent[] = Array.from({ length: 300 }, (_, i) =>
          act(["agg", i % 3], { assoc: { i } }, { triggers: [["key", 1]] }),
        );
        expect((await store.rebase(1, history)).result).toBe("ok");
        const effects = Array.from({ length: 200 }, () => eff(["key", 1]));
        expect((await store.rebase(301, effects)).result).toBe("ok");
        expect((await collect(store.stream({ offset: 301 }))).length).toBe(300);
        const driver = planner.driver(factory.lastUrl as string);
        const backend = new SqlBackend(planner.dialect(), driver, DEFAULT_TABLES);
        try {
          const q = replayPageQuery(backend.db, {}, 301, 500, 0, 1000, undefined, backend.dialect.identityIndex);
          const read = await driver.read(async (s) =>
            rowsRead(await s.all({ sql: `${rowsRead.prefix} ${q.sql}`, parameters: q.parameters })),
          );
          // 300 trigger rows, 200 effects, 300 actions, and the few rows made of them.
          expect(read).toBeLessThan(3000);
          // A rebase on agg 0 from seqNo 1: its 100 trigger rows and the 200 effects on their key.
          const check = firstConflictsOf(backend, [encodeIdentity(["agg", 0])], 500);
          const checked = await driver.read(async (s) =>
            rowsRead(await s.all({ sql: `${rowsRead.prefix} ${check.sql}`, parameters: check.parameters })),
          );
          expect(checked).toBeLessThan(3000);
        } finally {
          await backend.close();
        }
      });
    }
  });
}

for (const factory of storesNamed(...Object.keys(PLANNERS))) testPlans(factory);
