import type { Command } from "commander";
import { openStore, type Store } from "../index.js";

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

/**
 * Opens the store `url` names, runs `work` on it and closes it, whatever
 * happens: commands never leak a connection or leave a SQLite file locked.
 */
export async function withStore<T>(url: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
