import { CliError } from "./exit-codes.js";

/**
 * ISO 8601 date-time with a zone, to the millisecond at most: a time without a
 * zone would silently mean local time, and more digits would be cut off, so
 * what is written would not be what reads back. A year is four digits, or
 * six with a sign (`+010000`, `-000001`), as output prints those outside 0 to
 * 9999 (`Date.prototype.toISOString`), so that every line `stream` prints can
 * be written again.
 */
const ISO = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads an ISO 8601 timestamp such as `2026-11-26T10:00:00.123Z` or
 * `2026-11-26T11:00:00+01:00`; throws a {@link CliError} naming `path` otherwise.
 *
 * @example
 * parseTimestamp("2026-11-26T10:00:00.123Z", "history[0].timestamp").getTime() // 1795687200123
 */
export function parseTimestamp(value: unknown, path: string): Date {
  const text = typeof value === "string" ? value : undefined;
  const m = text === undefined ? null : ISO.exec(text);
  if (text === undefined || m === null) {
    throw new CliError(
      `${path}: expected an ISO 8601 timestamp with a zone, like "2026-11-26T10:00:00.123Z", got ${shortly(value)}`,
    );
  }
  const [year, month, day, hour, minute, second = "0"] = m.slice(1, 7).map((s) => s ?? "0") as string[];
  // Date.parse rolls "02-30" over to March; compare the fields to catch it
  // (setUTCFullYear, unlike Date.UTC, keeps years below 100 as written).
  const check = new Date(0);
  check.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  check.setUTCHours(Number(hour), Number(minute), Number(second));
  const date = new Date(text);
  if (
    Number.isNaN(date.getTime()) ||
    check.getUTCFullYear() !== Number(year) ||
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCDate() !== Number(day) ||
    check.getUTCHours() !== Number(hour) ||
    check.getUTCMinutes() !== Number(minute) ||
    check.getUTCSeconds() !== Number(second)
  ) {
    throw new CliError(`${path}: ${JSON.stringify(text)} is not a valid date and time`);
  }
  return date;
}

function shortly(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
