import type { NewAction } from "../../src/index.js";

/** The history an idempotent writer sends for `id`: the same in every process, `size` actions. */
export function idBatch(id: string, size: number): NewAction[] {
  return Array.from({ length: size }, (_, i) => ({
    timestamp: new Date(1_700_000_000_000 + i),
    source: "retry",
    action: {
      reason: id,
      actor: ["client", id],
      aggregate: ["order", `${id}/${i}`],
      patch: { assoc: { i, lines: [{ sku: `sku-${i}`, qty: i % 7 }] } },
    },
  }));
}
