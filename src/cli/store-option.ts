import type { Command } from "commander";
import { openStore, type Store, type TableNames } from "../index.js";
import { CliError } from "./exit-codes.js";

/** The store URL when neither `--db` nor `COHERENCE_DB` names one. */
export const DEFAULT_DB = "sqlite:coherence.db";

/** The `--db` of the program, if given on the command line. */
export function givenDb(command: Command): string | undefined {
  return command.optsWithGlobals<{ db?: string }>().db;
}

/** The store URL: `--db`, else `COHERENCE_DB`, else {@link DEFAULT_DB}. */
export function dbUrl(command: Command): string {
  const env = process.env.COHERENCE_DB;
  return givenDb(command) ?? (env !== undefined && env !== "" ? env : DEFAULT_DB);
}

/**
 * The URL as it may be printed: a password in it (`postgres://u:secret@h/db`)
 * becomes `***`, so that logs of `coherence init` never hold one.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

/** The relation keys `--tables` takes. */
const TABLE_KEYS = ["event", "action", "effect", "trigger"] as const;

/**
 * The relation names of `--tables` (else `COHERENCE_TABLES`):
 * `event=order_log,action=order_actions`; undefined for the defaults. The
 * names themselves are the store's to check (`options.tables.event: …`).
 */
export function tablesOption(command: Command): Partial<TableNames> | undefined {
  const given = command.optsWithGlobals<{ tables?: string }>().tables ?? process.env.COHERENCE_TABLES;
  if (given === undefined || given === "") return undefined;
  const tables: Record<string, string> = {};
  for (const pair of given.split(",")) {
    const [key = "", name, ...rest] = pair.split("=");
    if (!TABLE_KEYS.includes(key.trim() as never) || name === undefined || rest.length > 0) {
      throw new CliError(
        `--tables: expected RELATION=NAME pairs separated by commas (${TABLE_KEYS.join(", ")}), got ${JSON.stringify(pair)}`,
      );
    }
    if (key.trim() in tables) throw new CliError(`--tables: ${key.trim()} given twice`);
    tables[key.trim()] = name.trim();
  }
  return tables;
}

/** Stores that live in the process: each command is a process of its own, so they would be empty every time. */
const IN_PROCESS = /^(memory:|sqlite:(\/\/)?:memory:)$/;

/**
 * Opens the store of `--db` and `--tables`, runs `work` on it and closes it,
 * whatever happens: commands never leak a connection or leave a SQLite file
 * locked. `url` overrides `--db` (the demo, which runs in one process and so
 * may use a store of the process).
 */
export async function withStore<T>(command: Command, work: (store: Store) => Promise<T>, url?: string): Promise<T> {
  if (url === undefined) {
    url = dbUrl(command);
    if (IN_PROCESS.test(url)) {
      throw new CliError(`--db: ${url} keeps nothing between commands; give a sqlite: file or server URL`);
    }
  }
  const tables = tablesOption(command);
  const store = openStore(url, tables === undefined ? {} : { tables });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
