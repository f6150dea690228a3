import type { CompiledQuery } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_TABLES, type NewEvent } from "../src/index.js";
import { encodeIdentity } from "../src/model/codec.js";
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
import { patchPageQuery } from "../src/sql/queries/patch-page.js";
import { replayPageQuery } from "../src/sql/queries/replay-page.js";
import { SqlBackend } from "../src/sql/sql-backend.js";
import { derivedName } from "../src/sql/tables.js";
import { type StoreFactory, storesNamed } from "./stores.js";
import { act, eff } from "./support/events.js";

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
    // SCAN of a relation, by rows or by a whole index; `r` is the few rows the replay's subquery made.
    fullScan: /SCAN (?!r\b|CONSTANT)/,
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
        const conflicts = await plan(firstConflictsQuery(backend.db, 1, [agg], []));
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

        const aggregate = await plan(patchPageQuery(backend.db, agg, 0, head, 2000, undefined, identityIndex));
        expect(aggregate).toContain(planner.aggregateIndex);
        // And no table is read whole.
        for (const p of [conflicts, anyConflict, replay, filtered, aggregate]) expect(p).not.toMatch(planner.fullScan);
      } finally {
        await backend.close();
      }
    });
  });
}

for (const factory of storesNamed(...Object.keys(PLANNERS))) testPlans(factory);
