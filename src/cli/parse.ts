import type { Id, Identity } from "../index.js";
import { CliError } from "./exit-codes.js";

/** An integer as written on a command line: optional minus, no leading zeros. */
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * Reads an id argument. Text that reads as an integer (`42`, `-7`) is the
 * number; wrap it in double quotes (`'"42"'`) for the string. Any other text
 * is the string itself, and a double-quoted text is read as a JSON string
 * (so `'"\"x"'` works too).
 *
 * @example
 * parseId("1")      // 1
 * parseId('"1"')    // "1"
 * parseId("Neuromancer") // "Neuromancer"
 */
export function parseId(text: string, what: string): Id {
  if (INTEGER.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) {
      throw new CliError(`${what}: ${text} is beyond the safe integers; quote it for a string id ('"${text}"')`);
    }
    return n;
  }
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === "string") return value;
    } catch {
      // Not valid JSON: fall through to the error below.
    }
    throw new CliError(`${what}: ${text} is not a valid quoted (JSON) string`);
  }
  return text;
}

/**
 * Reads `KIND:ID`, split at the first colon (ids may hold colons, kinds
 * rarely do); the id as in {@link parseId}.
 *
 * @example
 * parseIdentity("receipt:1", "--aggregate")   // ["receipt", 1]
 * parseIdentity('book:"1"', "--aggregate")    // ["book", "1"]
 */
export function parseIdentity(text: string, what: string): Identity {
  const colon = text.indexOf(":");
  if (colon < 0) throw new CliError(`${what}: expected KIND:ID, got ${JSON.stringify(text)}`);
  return [text.slice(0, colon), parseId(text.slice(colon + 1), what)];
}

/** Reads an integer option of at least `min` (0 for `--offset`, 1 for `--base`, a seqNo). */
export function parseInteger(text: string, what: string, min: 0 | 1 = 0): number {
  if (!INTEGER.test(text) || text.startsWith("-") || Number(text) < min) {
    const expected = min === 0 ? "a non-negative integer" : "a positive integer";
    throw new CliError(`${what}: expected ${expected}, got ${JSON.stringify(text)}`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CliError(`${what}: ${text} is beyond the safe integers`);
  return n;
}

/** Reads a comma-separated list of sequence numbers (`1,2,5`); the empty text is the empty list. */
export function parseIntegerList(text: string, what: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((part) => parseInteger(part.trim(), what, 1));
}

/**
 * Refuses arguments that were not UTF-8: Node reads each invalid byte of one
 * as U+FFFD, so `--id $'r\xff'` and `--id $'r\xfe'` would both be `"r\uFFFD"`.
 */
export function checkArguments(args: readonly string[]): void {
  for (const [i, arg] of args.entries()) {
    if (arg.includes("\uFFFD")) {
      throw new CliError(
        `argument ${i + 1} (${JSON.stringify(arg)}) is not UTF-8, or holds U+FFFD: arguments are refused rather than stored altered`,
      );
    }
  }
}

/** A commander collector for repeatable options: `--kind a --kind b` → `["a", "b"]`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
