import type { Command } from "commander";
import { CliError, ExitCode } from "../exit-codes.js";
import { printJson } from "../io.js";
import { parseId } from "../parse.js";
import { withStore } from "../store-option.js";

/** `coherence state KIND ID`: prints an aggregate's folded state and last seqNo as JSON. */
export function registerState(program: Command): void {
  program
    .command("state")
    .description("print the state of an aggregate and the seqNo of its last action as JSON")
    .argument("<kind>", "the aggregate's kind, e.g. book")
    .argument("<id>", "its id; an integer is a number, quote it for a string: '\"1\"'")
    .action(async (kind: string, idText: string, _flags: unknown, command: Command) => {
      const id = parseId(idText, "id");
      const state = await withStore(command, (store) => store.aggregate([kind, id]));
      if (state === undefined) {
        // Digits name a number: an ISBN or a numeric-looking string id needs quotes.
        const hint = typeof id === "number" ? ` (the number; the string is ${kind} '"${idText}"')` : "";
        throw new CliError(`no actions on ${kind} ${JSON.stringify(id)}${hint}`, ExitCode.notFound);
      }
      printJson(state);
    });
}
