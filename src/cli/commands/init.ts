import type { Command } from "commander";
import { dbUrl, redactUrl, withStore } from "../store-option.js";

/** `coherence init`: creates the store's relations and indexes, or upgrades those of an earlier release (idempotent). */
export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create the store's tables and indexes, or upgrade those of an earlier release (safe to run again)")
    .action(async (_options: unknown, command: Command) => {
      const url = dbUrl(command);
      await withStore(command, (store) => store.initSchema(), { creates: true });
      process.stdout.write(`schema ready in ${redactUrl(url)}\n`);
    });
}
