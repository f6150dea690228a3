import { createRequire } from "node:module";
import type * as SqlEscaper from "sql-escaper";
import { once } from "../packages.js";

const require = createRequire(import.meta.url);

/** mysql2's own escaper, loaded with the first MySQL store (see `packages`). */
const escaper = once(() => require("sql-escaper") as typeof SqlEscaper);

/**
 * The parts of a session's `sql_mode` that change how a literal is written:
 * with `NO_BACKSLASH_ESCAPES` a backslash is an ordinary character (mysql2's
 * `\'` would end the string there and let the rest run as SQL), with
 * `ANSI_QUOTES` a double quote delimits an identifier.
 */
export interface SqlMode {
  readonly noBackslashEscapes: boolean;
  readonly ansiQuotes: boolean;
  /**
   * False when the session does not read statement text as utf8mb4
   * (`character_set_client` or `_connection` latin1, utf8mb3, …: a pool's
   * `charset`, `SET NAMES`, the server's `init_connect`): a string with a
   * character beyond ASCII is then written as `_utf8mb4 X'…'`, its UTF-8
   * bytes in hex, which every character set reads the same. Absent: utf8mb4.
   */
  readonly utf8mb4?: boolean;
}

/** A string with a character beyond ASCII. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII
const NON_ASCII = /[^\x00-\x7f]/;

/** `value` as a session that does not read utf8mb4 must get it: a non-ASCII string as a hex literal of its UTF-8. */
function forCharset(value: unknown): unknown {
  if (typeof value !== "string" || !NON_ASCII.test(value)) return value;
  return escaper().raw(`_utf8mb4 X'${Buffer.from(value, "utf8").toString("hex")}'`);
}

/** A session's mode, read off its `@@session.sql_mode` text. */
export function sqlModeOf(text: unknown): SqlMode {
  const flags = new Set(
    String(text ?? "")
      .toUpperCase()
      .split(","),
  );
  return { noBackslashEscapes: flags.has("NO_BACKSLASH_ESCAPES"), ansiQuotes: flags.has("ANSI_QUOTES") };
}

/** What stands for each value while a statement is split at its placeholders: no SQL text holds it. */
const SLOT = "\u0000";
const CACHED_SPLITS = 512;
/** Statements split at their `?` placeholders, as sql-escaper finds them (null: not `?` alone, or holding {@link SLOT}). */
const splits = new Map<string, readonly string[] | null>();

/**
 * `sql`'s text around each of its `count` placeholders, as sql-escaper's
 * `format` finds them in the default mode (outside quotes and comments):
 * found by that very `format`, once per statement.
 */
function splitAt(sql: string, count: number): readonly string[] | null {
  let chunks = splits.get(sql);
  if (chunks === undefined) {
    const { format, raw } = escaper();
    const slot = raw(SLOT);
    chunks = null;
    if (!sql.includes(SLOT)) {
      const parts = format(
        sql,
        Array.from({ length: count }, () => slot),
      ).split(SLOT);
      // `??` (an identifier) writes no slot: such statements take `format` itself.
      if (parts.length === count + 1) chunks = parts;
    }
    if (splits.size < CACHED_SPLITS) splits.set(sql, chunks);
  }
  return chunks !== null && chunks.length === count + 1 ? chunks : null;
}

/** The characters a string literal must escape in the default mode (`\0` and Ctrl-Z as mysql2 does). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and Ctrl-Z are what mysql2 escapes beyond the quote and backslash
const SPECIAL = /[\0\x1a'\\]/;

/** A primitive as a literal of the default mode; undefined for what `format` decides (objects, Dates, Buffers, …). */
function literal(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return SPECIAL.test(value) ? escaper().escape(value) : `'${value}'`;
    case "number":
    case "bigint":
      return `${value}`;
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "NULL";
    case "object":
      return value === null ? "NULL" : undefined;
    default:
      return undefined;
  }
}

/**
 * `sql` with `values` written in, as the session in `mode` reads them. The
 * store formats every text-protocol statement itself rather than leave it to
 * mysql2, which always escapes for the default mode. In the default mode a
 * string without a quote or backslash is written as it is (JSON's double
 * quotes need no escape in a single-quoted literal), where mysql2's escaper
 * walks it character by character; everything else is sql-escaper's
 * `format`, told the mode.
 */
export function formatSql(sql: string, values: readonly unknown[], mode: SqlMode, timezone?: string): string {
  if (values.length === 0) return sql;
  if (mode.utf8mb4 === false) values = values.map(forCharset);
  else if (!mode.noBackslashEscapes && !mode.ansiQuotes) {
    const chunks = splitAt(sql, values.length);
    if (chunks !== null) {
      let out = chunks[0] as string;
      let i = 0;
      for (; i < values.length; i++) {
        const text = literal(values[i]);
        if (text === undefined) break;
        out += text + (chunks[i + 1] as string);
      }
      if (i === values.length) return out;
    }
  }
  return escaper().format(sql, values as SqlEscaper.SqlValue[], false, timezone ?? "local", mode);
}
