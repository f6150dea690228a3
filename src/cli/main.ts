#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerDemo } from "./commands/demo.js";
import { registerInit } from "./commands/init.js";
import { registerKeys } from "./commands/keys.js";
import { registerProjections } from "./commands/projections.js";
import { registerRebase } from "./commands/rebase.js";
import { registerState } from "./commands/state.js";
import { registerStream } from "./commands/stream.js";
import { EXIT_CODES_HELP, ExitCode } from "./exit-codes.js";
import { checkArguments } from "./parse.js";
import { describeError, exitCodeOf } from "./report-error.js";
import { DEFAULT_DB } from "./store-option.js";

/**
 * The commands of `coherence`, in the order `--help` lists them. A new
 * command is one file in `commands/` exporting `register…(program)`, and one
 * line here.
 */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerDemo,
  registerInit,
  registerRebase,
  registerStream,
  registerState,
  registerKeys,
  registerProjections,
];

/** Builds the `coherence` program; usage errors throw a `CommanderError` instead of exiting. */
export function createProgram(): Command {
  const program = new Command("coherence")
    .description("coherence-store on the command line: an event store where every write is a rebase")
    .option("--db <url>", `store URL (env COHERENCE_DB; default ${DEFAULT_DB})`)
    .option(
      "--tables <pairs>",
      "relation names of a store opened with options.tables, e.g. event=order_log,action=order_actions (env COHERENCE_TABLES)",
    )
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: (text, write) => write(`coherence: ${text.replace(/^error: /, "")}`) })
    .exitOverride()
    .showSuggestionAfterError();
  // Set before the commands exist: subcommands inherit these settings when created.
  for (const register of COMMANDS) register(program);
  program.addHelpText("after", EXIT_CODES_HELP);
  // Every command's help, nested ones (`keys expire`) included.
  const withCodes = (commands: readonly Command[]): void => {
    for (const command of commands) {
      command.addHelpText("after", EXIT_CODES_HELP);
      withCodes(command.commands);
    }
  };
  withCodes(program.commands);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    checkArguments(argv.slice(2));
    await createProgram().parseAsync(argv as string[]);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      process.stderr.write(`coherence: ${describeError(error)}\n`);
      if (process.env.COHERENCE_DEBUG === "1" && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    }
    return exitCodeOf(error);
  }
}

// A reader that stops early (`coherence stream | head`) is not an error: the command ends with the
// code it already chose (a rebase that wrote nothing still ends with 4). Other failures to write the
// output (a full disk) end it with one line, as any error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  const chosen = typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  if (error.code === "EPIPE") process.exit(chosen);
  process.stderr.write(`coherence: cannot write the output: ${error.message}\n`);
  process.exit(ExitCode.unexpected);
});

process.exitCode = await main(process.argv);
