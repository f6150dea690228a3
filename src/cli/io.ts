import { once } from "node:events";
import { readFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { CliError } from "./exit-codes.js";
import { parseTimestamp } from "./timestamp.js";

/**
 * Reads the whole input of a command: the file `file` names (`-` is stdin),
 * or stdin. Refuses to wait on an interactive terminal, where a forgotten
 * `--file` would look like a hang.
 */
export async function readInput(file: string | undefined): Promise<string> {
  if (file !== undefined && file !== "-") {
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
      throw new CliError(`--file: cannot read ${file}: ${reason}`);
    }
  }
  if (process.stdin.isTTY) throw new CliError("no input: give --file FILE or pipe JSON or NDJSON to stdin");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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
  if (trimmed.startsWith("[")) {
    const value = parseJson(trimmed, "input");
    if (!Array.isArray(value)) throw new CliError("input: expected a JSON array of events");
    return value;
  }
  try {
    // A single event, possibly spread over several lines.
    const value: unknown = JSON.parse(trimmed);
    return [value];
  } catch {
    // Several lines: NDJSON.
  }
  const events: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== "") events.push(parseJson(line, `input line ${i + 1}`));
  }
  return events;
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
