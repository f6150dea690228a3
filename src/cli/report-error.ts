import { CommanderError } from "commander";
import { CoherenceError, DatabaseError, ValidationError } from "../index.js";
import { CliError, ExitCode, type ExitCodeValue } from "./exit-codes.js";

/** The exit code an error ends the program with (see {@link ExitCode}). */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ValidationError) return ExitCode.badInput;
  // Commander already printed its message (or the help); 0 after --help.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  return ExitCode.unexpected;
}

/**
 * The one line that tells a user what went wrong: the message of bad input as
 * is (it names the field), and the class and the driver's message otherwise.
 */
export function describeError(error: unknown): string {
  if (error instanceof ValidationError) return withFlag(error);
  if (error instanceof CliError) return error.message;
  if (error instanceof Error) {
    const cause =
      error.cause instanceof Error && !error.message.includes(error.cause.message) ? error.cause : undefined;
    const head = error instanceof CoherenceError ? `${error.name} (${error.code})` : error.name;
    const text = `${head}: ${oneLine(error.message)}${cause ? ` (cause: ${oneLine(cause.message)})` : ""}`;
    return MISSING_TABLE.test(text) ? `${text}; run \`coherence init\` first?` : text;
  }
  return `unexpected failure: ${oneLine(String(error))}`;
}

/** How SQLite, PostgreSQL and MySQL say that a relation is missing: the schema was never created. */
const MISSING_TABLE = /no such table|relation .* does not exist|table .* doesn't exist/i;

/** True for a database's error saying that a relation is missing (see {@link MISSING_TABLE}). */
export function isMissingTable(error: unknown): boolean {
  return error instanceof DatabaseError && MISSING_TABLE.test(error.message);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

/** The options of the CLI that give the library's arguments, by the paths a ValidationError names. */
const FLAGS: ReadonlyArray<readonly [RegExp, string, string?]> = [
  [/^url$/, "--db", "COHERENCE_DB"],
  [/^options\.tables(\.|$)/, "--tables", "COHERENCE_TABLES"],
  [/^base$/, "--base"],
  [/^options\.resolved(\[|$)/, "--resolved"],
  [/^options\.id$/, "--id"],
  [/^options\.offset$/, "--offset"],
  [/^options\.aggregates(\[|$)/, "--aggregate"],
  [/^options\.kinds(\[|$)/, "--kind"],
];

/** A ValidationError's message, naming the option it came from where one did (`--kind (options.kinds[0]): …`). */
function withFlag(error: ValidationError): string {
  const found = FLAGS.find(([path]) => path.test(error.path));
  if (found === undefined) return error.message;
  const [, option, variable] = found;
  // An option not on the command line came from its environment variable.
  const given = process.argv.some((arg) => arg === option || arg.startsWith(`${option}=`));
  const flag = !given && variable !== undefined && process.env[variable] ? variable : option;
  const prefix = `${error.path}: `;
  const text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return `${flag} (${error.path}): ${text}`;
}
