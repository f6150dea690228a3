import type { Command } from "commander";
import { listProjections } from "../../index.js";
import { toJson, writeLine } from "../io.js";
import { withStore } from "../store-option.js";

/** `coherence projections`: each projection's checkpoint and lag, as NDJSON. */
export function registerProjections(program: Command): void {
  program
    .command("projections")
    .description("print each projection's checkpoint, the head and the lag (head - checkpoint) as NDJSON")
    .action(async (_flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        for (const p of await listProjections(store)) await writeLine(process.stdout, toJson(p));
      });
    });
}
