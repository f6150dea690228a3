import type { Identity, NewAction, NewEffect, NewEvent, Patch } from "../../src/index.js";

/** A fixed clock, so tests compare whole events. */
export const T0 = new Date("2026-11-26T10:00:00.123Z");

/** A new action with sensible defaults. */
export function act(
  aggregate: Identity,
  patch: Patch = { assoc: { n: 1 } },
  extra: { actor?: Identity; reason?: string; triggers?: Identity[]; source?: string; timestamp?: Date } = {},
): NewAction {
  const event: NewAction = {
    timestamp: extra.timestamp ?? T0,
    source: extra.source ?? "test",
    action: { reason: extra.reason ?? "update", actor: extra.actor ?? ["user", "alice"], aggregate, patch },
  };
  return extra.triggers ? { ...event, triggers: extra.triggers } : event;
}

/** A new effect. */
export function eff(trigger: Identity, reason = "key-expired"): NewEffect {
  return { timestamp: T0, source: "keystore", effect: { reason, trigger } };
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A receipt of the walkthrough (SPEC section 6): Alice's payment, linked to its own encryption key. */
export function receipt(id: number, no: string, total: number): NewEvent {
  return {
    timestamp: new Date(),
    source: "bookstore",
    action: {
      reason: "payment",
      actor: ["user", "alice"],
      aggregate: ["receipt", id],
      patch: { assoc: { no, total } },
    },
    triggers: [["encryption-key", id]],
  };
}
