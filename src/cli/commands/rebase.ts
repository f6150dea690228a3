import type { Command } from "commander";
import type { NewEvent } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import { parseHistory, printJson, readInput } from "../io.js";
import { parseInteger, parseIntegerList } from "../parse.js";
import { withStore } from "../store-option.js";

interface RebaseFlags {
  readonly base: string;
  readonly resolved?: string;
  readonly dry?: boolean;
  readonly file?: string;
  readonly id?: string;
}

/** `coherence rebase`: appends a history read as JSON or NDJSON and prints the result as JSON. */
export function registerRebase(program: Command): void {
  program
    .command("rebase")
    .description("append events (a JSON array, or NDJSON) on top of --base; print the result as JSON")
    .requiredOption("--base <seqNo>", "the first sequence number you have NOT seen (1 on an empty store)")
    .option("--resolved <seqNos>", "comma-separated sequence numbers whose conflicts you resolved, e.g. 1,2")
    .option("--dry", "check only: print what would happen, write nothing")
    .option("--id <id>", "make the rebase idempotent: a retry with the same id and events returns the first result")
    .option("-f, --file <file>", "read the events from this file instead of stdin")
    .addHelpText(
      "after",
      `
Events: timestamps are ISO 8601 strings with a zone, e.g.
  {"timestamp":"2026-11-26T10:00:00.000Z","source":"shop","action":{"reason":"create",
   "actor":["user","alice"],"aggregate":["book","Neuromancer"],"patch":{"assoc":{"genre":"SciFi"}}}}`,
    )
    .action(async (flags: RebaseFlags, command: Command) => {
      const base = parseInteger(flags.base, "--base", 1);
      const resolved = flags.resolved === undefined ? [] : parseIntegerList(flags.resolved, "--resolved");
      const history = parseHistory(await readInput(flags.file)) as NewEvent[];
      const result = await withStore(command, (store) =>
        store.rebase(base, history, {
          resolved,
          dry: flags.dry === true,
          ...(flags.id === undefined ? {} : { id: flags.id }),
        }),
      );
      // Chosen before the output: a reader that stops early leaves the code as it is.
      if (result.result !== "ok") process.exitCode = ExitCode.notRebased;
      printJson(result);
    });
}
