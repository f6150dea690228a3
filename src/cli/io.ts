import { constants } from "node:buffer";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { checkExactJson } from "./exact-json.js";
import { CliError } from "./exit-codes.js";
import { parseTimestamp } from "./timestamp.js";

/** Decodes UTF-8 strictly: a byte sequence that is not UTF-8 fails instead of becoming U+FFFD. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads the whole input of a command: the file `file` names (`-` is stdin),
 * or stdin. Refuses to wait on an interactive terminal, where a forgotten
 * `--file` would look like a hang. Input that is not UTF-8 is refused rather
 * than stored with its bad bytes replaced.
 */
export async function readInput(file: string | undefined): Promise<string> {
  const where = file !== undefined && file !== "-" ? `--file ${file}` : "stdin";
  let bytes: Buffer;
  if (file !== undefined && file !== "-") {
    try {
      bytes = await readFile(file);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      const reason =
        code === "ENOENT" ? "no such file" : code === "ERR_FS_FILE_TOO_LARGE" ? tooLarge() : (error as Error).message;
      throw new CliError(`--file: cannot read ${file}: ${reason}`);
    }
  } else {
    if (process.stdin.isTTY) throw new CliError("no input: give --file FILE or pipe JSON or NDJSON to stdin");
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of process.stdin) {
      length += (chunk as Buffer).length;
      if (length > MAX_INPUT_BYTES) throw new CliError(`stdin: ${tooLarge()}`);
      chunks.push(chunk as Buffer);
    }
    bytes = Buffer.concat(chunks);
  }
  if (bytes.length > MAX_INPUT_BYTES) throw new CliError(`${where}: ${tooLarge()}`);
  try {
    return UTF8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new CliError(`${where}: not UTF-8 text (an invalid byte sequence at byte ${at}); nothing was written`);
  }
}

/**
 * The most input one command reads: its text must fit in one JavaScript string
 * (`buffer.constants.MAX_STRING_LENGTH` UTF-16 code units; 512 MiB on 64-bit Node 20).
 */
const MAX_INPUT_BYTES = constants.MAX_STRING_LENGTH;

function tooLarge(): string {
  return `more than ${Math.floor(MAX_INPUT_BYTES / 2 ** 20)} MiB, the most one command reads: split the history into several rebases`;
}

/** The offset of the first byte of the first sequence that is not UTF-8. */
function firstInvalidUtf8(bytes: Buffer): number {
  // Decoding prefixes finds it without reimplementing UTF-8: the longest prefix that decodes, a
  // sequence cut off at its end allowed, ends where decoding fails.
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (decodes(bytes.subarray(0, mid), true)) low = mid;
    else high = mid - 1;
  }
  // Where that prefix ends inside a sequence it could not finish, the bad sequence began at its lead byte.
  if (decodes(bytes.subarray(0, low), false)) return low;
  let start = low;
  while (start > 0 && start > low - 4 && (bytes[start - 1]! & 0xc0) === 0x80) start--;
  return start > 0 && bytes[start - 1]! >= 0xc0 ? start - 1 : low;
}

/** Whether `bytes` is UTF-8; with `cutOff`, a sequence cut off at its end is allowed. */
function decodes(bytes: Buffer, cutOff: boolean): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: cutOff });
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a history: a JSON array of events, a single JSON event, or NDJSON
 * (one event per line). Timestamps are ISO 8601 strings and become Dates;
 * everything else is left for the store to validate, so its errors name the
 * field (`history[1].action.aggregate[1]`).
 *
 * @example
 * parseHistory('{"timestamp":"2026-11-26T10:00:00Z","source":"shop","effect":{"reason":"x","trigger":["k",1]}}')
 */
export function parseHistory(text: string): unknown[] {
  // Editors on Windows like to start UTF-8 files with a byte order mark, which JSON.parse refuses.
  return parseJsonOrNdjson(text.startsWith("\uFEFF") ? text.slice(1) : text).map((event, i) => {
    if (typeof event !== "object" || event === null || Array.isArray(event) || !("timestamp" in event)) return event;
    const { timestamp } = event as { timestamp: unknown };
    if (timestamp === undefined) return event;
    return { ...event, timestamp: parseTimestamp(timestamp, `history[${i}].timestamp`) };
  });
}

function parseJsonOrNdjson(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  // Where an offset into `trimmed` is in the input, as its messages name it.
  const inWhole = (offset: number) => `input${lineAndColumn(text, text.length - text.trimStart().length + offset)}`;
  if (trimmed.startsWith("[")) {
    const value = parseJson(trimmed, "input");
    if (!Array.isArray(value)) throw new CliError("input: expected a JSON array of events");
    checkExactJson(trimmed, inWhole);
    return value;
  }
  let whole: Error;
  try {
    // A single event, possibly spread over several lines.
    const value: unknown = JSON.parse(trimmed);
    checkExactJson(trimmed, inWhole);
    return [value];
  } catch (error) {
    if (error instanceof CliError) throw error;
    // Several lines: NDJSON.
    whole = error as Error;
  }
  const events: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const line = raw.trim();
    if (line === "") continue;
    const inLine = (offset: number) =>
      `input line ${i + 1}, column ${raw.length - raw.trimStart().length + offset + 1}`;
    if (events.length > 0) {
      events.push(parseJson(line, `input line ${i + 1}`));
      checkExactJson(line, inLine);
      continue;
    }
    try {
      events.push(JSON.parse(line));
    } catch {
      // Its first line no JSON text of its own: one event spread over lines, broken somewhere in it.
      throw new CliError(`input: invalid JSON${located(whole, text)} (${whole.message})`);
    }
    checkExactJson(line, inLine);
  }
  return events;
}

/** ` at line L, column C` of the position a JSON.parse message gives (of `text` trimmed), or nothing. */
function located(error: Error, text: string): string {
  const position = /at position (\d+)/.exec(error.message);
  if (position === null) return "";
  return ` at${lineAndColumn(text, text.length - text.trimStart().length + Number(position[1]))}`;
}

/** ` line L, column C` of an offset into `text`. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return ` line ${before.length}, column ${(before[before.length - 1] ?? "").length + 1}`;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${where}: invalid JSON (${(error as Error).message})`);
  }
}

/** JSON for output: Dates as ISO strings (their `toJSON`), Errors as `{ name, code, message }`. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (v instanceof Error) {
        const { code } = v as { code?: unknown };
        return code === undefined ? { name: v.name, message: v.message } : { name: v.name, code, message: v.message };
      }
      return v;
    },
    indent,
  );
}

/** Lines of printed JSON stay within this many characters when they can. */
const WIDTH = 100;

/**
 * JSON for people and scripts alike: valid JSON, indented, but a value that
 * fits on its line stays on it (an identity is `["book", 1]`, not four lines).
 *
 * @example
 * readableJson({ state: { genre: "SciFi" }, seqNo: 1 }) // '{"state": {"genre":"SciFi"}, ...' within 100 columns
 */
export function readableJson(value: unknown): string {
  return layout(JSON.parse(toJson(value) ?? "null"), "", 0);
}

function layout(value: unknown, indent: string, used: number): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== "object" || indent.length + used + flat.length <= WIDTH) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${layout(v, inner, 0)}`).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([k, v]) => {
    const key = `${JSON.stringify(k)}: `;
    return `${inner}${key}${layout(v, inner, key.length)}`;
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/** Prints a value as {@link readableJson} on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${readableJson(value)}\n`);
}

/** Writes one line, waiting when the reader is slower, so long streams stay in constant memory. */
export async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, "drain");
}
