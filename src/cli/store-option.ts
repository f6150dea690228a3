import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { openStore, type Store, type TableNames } from "../index.js";
import { sqliteFile } from "../open-store.js";
import { urlAuthority } from "../server-source.js";
import { packages } from "../sql/dialects/packages.js";
import { resolveTables } from "../sql/tables.js";
import { CliError } from "./exit-codes.js";

/** The store URL when neither `--db` nor `COHERENCE_DB` names one. */
export const DEFAULT_DB = "sqlite:coherence.db";

/** The `--db` of the program, if given on the command line. */
export function givenDb(command: Command): string | undefined {
  return command.optsWithGlobals<{ db?: string }>().db;
}

/** The store URL: `--db`, else `COHERENCE_DB`, else {@link DEFAULT_DB}. */
export function dbUrl(command: Command): string {
  return storeUrl(command).url;
}

/** {@link dbUrl}, and where it came from, as messages about it name it. */
function storeUrl(command: Command): { url: string; from: string } {
  const given = givenDb(command);
  if (given !== undefined) return { url: given, from: "--db" };
  const env = fromEnv("COHERENCE_DB");
  if (env !== undefined && env !== "") return { url: env, from: "COHERENCE_DB" };
  return { url: DEFAULT_DB, from: `--db (default ${DEFAULT_DB})` };
}

/**
 * An environment variable, refused if it was not UTF-8 (Node reads each
 * invalid byte as U+FFFD, so the file or URL used would not be the one
 * named), as arguments are.
 */
function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  if (value?.includes("\uFFFD")) {
    throw new CliError(
      `${name} (${JSON.stringify(value)}) is not UTF-8, or holds U+FFFD: refused rather than used altered`,
    );
  }
  return value;
}

/** Query parameters that carry a password (pg reads `password`; mysql2 takes any option there, `password1` to `3` included). */
const SECRET_PARAMETER = /^(password[123]?|passwd|pass|pwd)$/i;

/**
 * The URL as it may be printed: a password in it (`postgres://u:secret@h/db`,
 * or `?password=secret`) becomes `***`, so that logs of `coherence init`
 * never hold one. The user part ends at the last `@` before the path, as
 * URL parsers read it: a password may hold an `@` of its own.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (scheme === null) return url;
  const start = scheme[0].length;
  const { authority, host } = urlAuthority(url.slice(start));
  // The user part is the authority before its host's `@`; a password follows its first colon.
  const colon = authority.indexOf(":");
  const out = colon >= 0 && colon < host - 1 ? `${url.slice(0, start + colon)}:***${url.slice(start + host - 1)}` : url;
  const query = out.indexOf("?");
  if (query < 0) return out;
  const hash = out.indexOf("#", query);
  const tail = hash < 0 ? "" : out.slice(hash);
  const parameters = out.slice(query + 1, hash < 0 ? undefined : hash).split("&");
  const masked = parameters.map((p) => {
    const eq = p.indexOf("=");
    return eq >= 0 && SECRET_PARAMETER.test(p.slice(0, eq)) ? `${p.slice(0, eq)}=***` : p;
  });
  return `${out.slice(0, query + 1)}${masked.join("&")}${tail}`;
}

/** The relation keys `--tables` takes. */
const TABLE_KEYS = ["event", "action", "effect", "trigger"] as const;

/**
 * The relation names of `--tables` (else `COHERENCE_TABLES`):
 * `event=order_log,action=order_actions`; undefined for the defaults. The
 * names themselves are the store's to check (`options.tables.event: …`).
 */
export function tablesOption(command: Command): Partial<TableNames> | undefined {
  const flag = command.optsWithGlobals<{ tables?: string }>().tables;
  const given = flag ?? fromEnv("COHERENCE_TABLES");
  const from = flag === undefined ? "COHERENCE_TABLES" : "--tables";
  if (given === undefined || given === "") return undefined;
  const tables: Record<string, string> = {};
  for (const pair of given.split(",")) {
    const [key = "", name, ...rest] = pair.split("=");
    if (!TABLE_KEYS.includes(key.trim() as never) || name === undefined || rest.length > 0) {
      throw new CliError(
        `${from}: expected RELATION=NAME pairs separated by commas (${TABLE_KEYS.join(", ")}), got ${JSON.stringify(pair)}`,
      );
    }
    if (key.trim() in tables) throw new CliError(`${from}: ${key.trim()} given twice`);
    tables[key.trim()] = name.trim();
  }
  return tables;
}

/** Stores that live in the process: each command is a process of its own, so they would be empty every time. */
export const IN_PROCESS = /^(memory:|sqlite:(\/\/)?:memory:)$/;

/**
 * Opens the store of `--db` and `--tables`, runs `work` on it and closes it,
 * whatever happens: commands never leak a connection or leave a SQLite file
 * locked. `url` overrides `--db` (the demo, which runs in one process and so
 * may use a store of the process; `from` names where it came from). A SQLite
 * file is created only where `creates` (`init`, `demo`): the other commands
 * refuse a path that does not exist, or a file that holds no store, before
 * opening it, so that a mistyped path leaves no empty database behind and
 * another program's database is not touched (opening switches a file to WAL).
 */
export async function withStore<T>(
  command: Command,
  work: (store: Store) => Promise<T>,
  { url: given, from = "--db", creates = false }: { url?: string; from?: string; creates?: boolean } = {},
): Promise<T> {
  const tables = tablesOption(command);
  const chosen = given === undefined ? storeUrl(command) : { url: given, from };
  const url = chosen.url;
  if (given === undefined && IN_PROCESS.test(url)) {
    throw new CliError(`${chosen.from}: ${url} keeps nothing between commands; give a sqlite: file or server URL`);
  }
  const file = sqliteFile(url);
  // The names checked first, as the store would (a bad one is reported as such, not as a missing relation).
  if (file !== undefined) checkSqliteFile(file, creates, resolveTables(tables), chosen.from);
  const store = openStore(url, tables === undefined ? {} : { tables });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * Refuses a SQLite `file` the command cannot use, naming `from`: a directory;
 * where it does not `create`, a path that does not exist or a file without
 * one of the store's four relations; where it does, a file whose directory does not
 * exist. The file is read through a read-only connection, which changes
 * nothing; what that connection cannot open (a lock, a WAL file it may not
 * map) is left to the store's own open to report.
 */
function checkSqliteFile(file: string, creates: boolean, tables: TableNames, from: string): void {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new CliError(`${from}: ${file} is a directory, not a SQLite file`);
  if (stat === undefined) {
    if (!creates) throw new CliError(`${from}: no store at ${file} (no such file); \`coherence init\` creates one`);
    if (!existsSync(dirname(resolve(file)))) {
      throw new CliError(`${from}: cannot create ${file}: its directory does not exist`);
    }
    return;
  }
  if (creates) return;
  let db: InstanceType<ReturnType<typeof packages.betterSqlite3>> | undefined;
  try {
    db = new (packages.betterSqlite3())(file, { readonly: true, fileMustExist: true });
    const exists = db.prepare("select 1 from sqlite_master where type = 'table' and name = ? collate nocase");
    if (exists.get(tables.event) === undefined) {
      throw new CliError(`${from}: ${file} holds no store (no relation ${tables.event}); \`coherence init\` makes one`);
    }
    // A --tables that renames some relations only names the defaults for the others.
    for (const name of [tables.action, tables.effect, tables.trigger]) {
      if (exists.get(name) === undefined) {
        throw new CliError(
          `${from}: ${file} has the relation ${tables.event} but not ${name}: name all four relations in --tables, or \`coherence init\` makes them`,
        );
      }
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as { code?: unknown }).code === "SQLITE_NOTADB") {
      throw new CliError(`${from}: ${file} is not a SQLite database`);
    }
  } finally {
    db?.close();
  }
}
