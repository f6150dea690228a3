import type { Command } from "commander";
import type { StoredAction } from "../../index.js";
import { toJson, writeLine } from "../io.js";
import { collect, parseIdentity, parseInteger } from "../parse.js";
import { withStore } from "../store-option.js";
import { followUntilSignal } from "./stream-follow.js";

interface StreamFlags {
  readonly offset?: string;
  readonly aggregate?: string[];
  readonly kind?: string[];
  readonly follow?: boolean;
}

/** `coherence stream`: prints actions as NDJSON, replays included (SPEC section 3). */
export function registerStream(program: Command): void {
  program
    .command("stream")
    .description("print the actions from --offset on, plus the replays effects call for, as NDJSON")
    .option("--offset <seqNo>", "the first sequence number to read", "0")
    .option(
      "--aggregate <kind:id>",
      "only this aggregate (repeatable); an integer id is a number, quote it for a string: 'book:\"1\"'",
      collect,
    )
    .option("--kind <kind>", "only aggregates of this kind (repeatable; with --aggregate, both must match)", collect)
    .option("--follow", "then keep printing new commits (and the replays they call for) until interrupted")
    .action(async (flags: StreamFlags, command: Command) => {
      const offset = parseInteger(flags.offset ?? "0", "--offset");
      const aggregates = flags.aggregate?.map((a) => parseIdentity(a, "--aggregate"));
      await withStore(command, async (store) => {
        const options = { offset, aggregates, kinds: flags.kind };
        for await (const action of flags.follow ? followUntilSignal(store, options) : store.stream(options)) {
          await writeLine(process.stdout, toJson(ordered(action)));
        }
      });
    });
}

/** The seqNo first: the field a reader scans for. */
function ordered(a: StoredAction): StoredAction {
  const { seqNo, ...rest } = a;
  return { seqNo, ...rest };
}
