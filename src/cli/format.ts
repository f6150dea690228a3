import { type Identity, isAction, type KeyPath, type NewEvent, type Patch } from "../index.js";

/**
 * Short, human-readable renderings of the model for the demo: one line per
 * event, ids as JSON so that `receipt 1` and `book "1"` stay apart.
 */

/** `book "Neuromancer"`, `receipt 1`. */
export function formatIdentity([kind, id]: Identity): string {
  return `${kind} ${JSON.stringify(id)}`;
}

function formatKeyPath(path: KeyPath): string {
  return typeof path === "string" ? path : path.join(".");
}

/** `assoc author="William Gibson", genre="SciFi"; dissoc phone`. */
export function formatPatch(patch: Patch): string {
  const parts: string[] = [];
  if (patch.assoc !== undefined) {
    const pairs = Array.isArray(patch.assoc)
      ? (patch.assoc as ReadonlyArray<readonly [KeyPath, unknown]>)
      : Object.entries(patch.assoc);
    parts.push(`assoc ${pairs.map(([k, v]) => `${formatKeyPath(k)}=${JSON.stringify(v)}`).join(", ")}`);
  }
  if (patch.dissoc !== undefined) parts.push(`dissoc ${patch.dissoc.map(formatKeyPath).join(", ")}`);
  return parts.join("; ");
}

/** An object's fields as `key=value, …`: a state without braces and quotes on keys. */
export function formatFields(state: { readonly [key: string]: unknown }): string {
  const entries = Object.entries(state);
  return entries.length === 0 ? "{}" : entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

/** The columns of one event: who, why, what, how. */
export function eventColumns(event: NewEvent): string[] {
  if (isAction(event)) {
    const { actor, reason, aggregate, patch } = event.action;
    const triggers = event.triggers ? `  triggers ${event.triggers.map(formatIdentity).join(", ")}` : "";
    return [formatIdentity(actor), reason, formatIdentity(aggregate), `${formatPatch(patch)}${triggers}`];
  }
  const { source, effect } = event;
  return [`source ${JSON.stringify(source)}`, effect.reason, formatIdentity(effect.trigger), "(an effect)"];
}

/** An event in a few words: `book "Neuromancer" by user "bob"`, `key-expired on encryption-key 1`. */
export function describeEvent(event: NewEvent): string {
  if (isAction(event)) return `${formatIdentity(event.action.aggregate)} by ${formatIdentity(event.action.actor)}`;
  return `${event.effect.reason} on ${formatIdentity(event.effect.trigger)}`;
}

/** Rows with every column padded to its widest cell, each line prefixed with `indent`. */
export function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) => `${indent}${row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}`.trimEnd());
}

/** Bold and colours on a terminal that wants them (`NO_COLOR` turns them off), plain text otherwise. */
export function styles(out: { isTTY?: boolean }): Record<"bold" | "green" | "yellow" | "dim", (s: string) => string> {
  const on = out.isTTY === true && !process.env.NO_COLOR;
  const sgr = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: sgr(1, 22), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22) };
}
