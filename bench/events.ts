import type { NewAction } from "../src/index.js";

const T0 = Date.UTC(2026, 0, 1);

/** The i-th action of a workload: on aggregate `["account", i % aggregates]`, a small patch like real ones. */
export function benchAction(i: number, aggregates: number, aggregate?: string): NewAction {
  return {
    timestamp: new Date(T0 + i),
    source: "bench",
    action: {
      reason: "deposit",
      actor: ["user", `u${i % 97}`],
      aggregate: ["account", aggregate ?? i % aggregates],
      patch: { assoc: { balance: i, currency: "EUR", note: `deposit number ${i}` } },
    },
  };
}

/** The raw baseline's row of an action: the same values, as the raw table's columns. */
export type RawRow = [number, string, string, string, string, string, string, string];

/** {@link RawRow} of an action, encoded as the store encodes it (ids and patch as JSON text). */
export function rawRow(a: NewAction): RawRow {
  const { reason, actor, aggregate, patch } = a.action;
  return [
    a.timestamp.getTime(),
    a.source,
    reason,
    actor[0],
    JSON.stringify(actor[1]),
    aggregate[0],
    JSON.stringify(aggregate[1]),
    JSON.stringify(patch),
  ];
}

/** Splits a list into chunks of `size`. */
export function chunked<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
