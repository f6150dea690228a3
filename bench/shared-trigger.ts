/**
 * The cost of effects on a trigger many actions carry (`npx tsx bench/shared-trigger.ts
 * <store> [actions] [effects] [aggregates]`): `actions` actions on `aggregates` aggregates, each
 * carrying the key ["key", 1], then `effects` effects on that key. Prints the time of a
 * stream from the first effect (every action is replayed), of a one-action rebase on an
 * aggregate on the head, and of one on base 2 (a conflict). Neither the replay nor the
 * conflict check may pair each trigger row with each effect on its key. A fresh database,
 * dropped afterwards; not part of `npm run bench`.
 */
import { type NewEvent, openStore } from "../src/index.js";
import { median } from "./stats.js";
import { createTarget } from "./targets.js";

const [name = "sqlite", actions = "10000", effects = "1000", aggregates = "100"] = process.argv.slice(2);
const sizes = { actions: Number(actions), effects: Number(effects), aggregates: Number(aggregates) };
const T = new Date();
const action = (n: number): NewEvent => ({
  timestamp: T,
  source: "bench",
  action: { reason: "r", actor: ["user", "u"], aggregate: ["agg", n % sizes.aggregates], patch: { assoc: { n } } },
  triggers: [["key", 1]],
});
const effect: NewEvent = { timestamp: T, source: "bench", effect: { reason: "key-expired", trigger: ["key", 1] } };

/** Appends `count` events made by `make`, in rebases of at most 10,000 on the head. */
async function fill(store: ReturnType<typeof openStore>, count: number, make: (n: number) => NewEvent) {
  for (let at = 0; at < count; at += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, count - at) }, (_, i) => make(at + i));
    const r = await store.rebase((await store.currentSeqNo()) + 1, batch);
    if (r.result !== "ok") throw new Error(`fill: ${r.result}`);
  }
}

const target = await createTarget(name);
const store = openStore(target.url);
try {
  await store.initSchema();
  await fill(store, sizes.actions, action);
  const offset = (await store.currentSeqNo()) + 1;
  await fill(store, sizes.effects, () => effect);
  const streams: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    let replayed = 0;
    for await (const e of store.stream({ offset })) if (e.seqNo < offset) replayed++;
    streams.push(performance.now() - t);
    if (replayed !== sizes.actions) throw new Error(`stream: ${replayed} replayed, not ${sizes.actions}`);
  }
  const clean: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t = performance.now();
    const r = await store.rebase((await store.currentSeqNo()) + 1, [action(0)]);
    clean.push(performance.now() - t);
    if (r.result !== "ok") throw new Error(`rebase on the head: ${r.result}`);
  }
  const conflicts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = await store.rebase(2, [action(0)]);
    conflicts.push(performance.now() - t);
    if (r.result !== "conflict") throw new Error(`rebase on 2: ${r.result}`);
  }
  const ms = (values: number[]) => `${median(values).toFixed(2)} ms`;
  console.log(
    `${name}: ${sizes.actions} actions on ${sizes.aggregates} aggregates carrying one key, ${sizes.effects} effects on it; ` +
      `stream from the first effect ${ms(streams)}, one-action rebase on the head ${ms(clean)}, on base 2 (a conflict) ${ms(conflicts)} (medians)`,
  );
} finally {
  await store.close();
  await target.drop();
}
