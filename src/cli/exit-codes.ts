/**
 * The exit codes of `coherence`, a contract scripts rely on: keep the numbers
 * stable and the help text below in step with the README.
 */

/** Exit codes of `coherence`. */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** Anything unexpected: a database failure, a bug. */
  unexpected: 1,
  /** Bad input or usage: nothing was written. */
  badInput: 2,
  /** The thing asked for does not exist (`state` of an aggregate without actions). */
  notFound: 3,
  /** `rebase` did not write: `conflict`, `invalid-seq-no` or `write-conflict` (the result is still printed). */
  notRebased: 4,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as shown at the end of every `--help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  unexpected error (database failure, bug)
  2  bad input or usage; nothing was written
  3  not found (state of an aggregate without actions; keys expire of a key already gone)
  4  rebase not written: conflict, invalid-seq-no or write-conflict (JSON result still printed)`;

/**
 * A failure the CLI reports in one line with a chosen exit code. Commands
 * throw it for argument errors the library cannot see (a malformed `--base`).
 */
export class CliError extends Error {
  override name = "CliError" as const;
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.badInput,
  ) {
    super(message);
  }
}
