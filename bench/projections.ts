/**
 * The rate of a projection catching up (`npx tsx bench/projections.ts <store> [actions]
 * [batchSize]`): `actions` actions on 1,000 aggregates, then a read model of each
 * aggregate's balance built from scratch by `runProjection`, once with `apply` (one upsert
 * per action) and once with `applyBatch` (one multi-row upsert per batch), three times
 * each, taking turns. Prints actions per second (median). A fresh database, dropped
 * afterwards; not part of `npm run bench`.
 */
import {
  type BatchProjection,
  openStore,
  type Projection,
  type ProjectionSql,
  rebuildProjection,
  runProjection,
  type Store,
  type StoredAction,
} from "../src/index.js";
import { benchAction } from "./events.js";
import { median } from "./stats.js";
import { createTarget } from "./targets.js";

const [name = "sqlite", actions = "10000", batch = "100"] = process.argv.slice(2);
const count = Number(actions);
const batchSize = Number(batch);

/** `INSERT … ` of `rows` balances that replaces a row of the same aggregate, in the dialect's syntax. */
function upsert(sql: ProjectionSql, table: string, rows: number): string {
  const p = (i: number) => (sql.dialect === "postgres" ? `$${i + 1}` : "?");
  const values = Array.from({ length: rows }, (_, r) => `(${p(3 * r)}, ${p(3 * r + 1)}, ${p(3 * r + 2)})`).join(", ");
  const insert = `insert into ${table} (id, balance, seq_no) values ${values}`;
  if (sql.dialect === "mysql") {
    return `${insert} on duplicate key update balance = values(balance), seq_no = values(seq_no)`;
  }
  return `${insert} on conflict (id) do update set balance = excluded.balance, seq_no = excluded.seq_no`;
}

const balance = (e: StoredAction) => (e.action.patch.assoc as { balance: number }).balance;

async function clear(sql: ProjectionSql | undefined, table: string): Promise<void> {
  if (!sql) throw new Error("a SQL store is needed");
  const id = sql.dialect === "mysql" ? "varchar(100)" : "text";
  await sql.run(`create table if not exists ${table} (id ${id} primary key, balance bigint not null, seq_no bigint)`);
  await sql.run(`delete from ${table}`);
}

const oneByOne: Projection = {
  name: "one-by-one",
  async apply(e, { sql }) {
    await sql?.run(upsert(sql, "balances_one", 1), [String(e.action.aggregate[1]), balance(e), e.seqNo]);
  },
  clear: ({ sql }) => clear(sql, "balances_one"),
};

const batched: BatchProjection = {
  name: "batched",
  async applyBatch(events, { sql }) {
    if (!sql) return;
    // The last action of each aggregate in the batch (an upsert may not touch a row twice).
    const last = new Map<string, StoredAction>();
    for (const e of events) last.set(String(e.action.aggregate[1]), e);
    const values = [...last].flatMap(([id, e]) => [id, balance(e), e.seqNo]);
    await sql.run(upsert(sql, "balances_batched", last.size), values);
  },
  clear: ({ sql }) => clear(sql, "balances_batched"),
};

/** Seconds for `projection` to apply every action from scratch. */
async function catchUp(store: Store, projection: Projection | BatchProjection): Promise<number> {
  await rebuildProjection(store, projection);
  const head = await store.currentSeqNo();
  const controller = new AbortController();
  const start = performance.now();
  await runProjection(store, projection, {
    signal: controller.signal,
    batchSize,
    onCaughtUp: (h) => {
      if (h >= head) controller.abort();
    },
  });
  return (performance.now() - start) / 1000;
}

const target = await createTarget(name);
const store = openStore(target.url);
try {
  await store.initSchema();
  for (let at = 0; at < count; at += 1000) {
    const history = Array.from({ length: Math.min(1000, count - at) }, (_, i) => benchAction(at + i, 1000));
    const r = await store.rebase(at + 1, history);
    if (r.result !== "ok") throw new Error(`fill: ${r.result}`);
  }
  const rates = { apply: [] as number[], applyBatch: [] as number[] };
  for (let round = 0; round < 3; round++) {
    rates.apply.push(count / (await catchUp(store, oneByOne)));
    rates.applyBatch.push(count / (await catchUp(store, batched)));
  }
  const apply = median(rates.apply);
  const applyBatch = median(rates.applyBatch);
  console.log(
    `${name}: ${count} actions, batchSize ${batchSize}: apply ${Math.round(apply)} actions/s, applyBatch ${Math.round(applyBatch)} actions/s (x${(applyBatch / apply).toFixed(1)})`,
  );
} finally {
  await store.close();
  await target.drop();
}
