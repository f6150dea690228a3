import type { Command } from "commander";
import { openKeystore } from "../../index.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { printJson, toJson, writeLine } from "../io.js";
import { parseIdentity } from "../parse.js";
import { withStore } from "../store-option.js";
import { parseTimestamp } from "../timestamp.js";

/**
 * `coherence keys list | expire KIND:ID | expire-due`: the keystore's data
 * keys (crypto-shredding). None of them needs the master key: listing shows
 * no key material, and expiring only destroys.
 */
export function registerKeys(program: Command): void {
  const keys = program
    .command("keys")
    .description("the keystore's data keys: list them, expire one, or expire those due (crypto-shredding)");

  keys
    .command("list")
    .description("print every trigger's key as NDJSON: trigger, createdAt, expiresAt, expiredAt (never the key)")
    .action(async (_flags: unknown, command: Command) => {
      await withStore(command, async (store) => {
        for (const key of await openKeystore(store).keys()) await writeLine(process.stdout, toJson(key));
      });
    });

  keys
    .command("expire")
    .description(
      "shred the key of a trigger and append the effect key-expired on it, in one transaction; prints " +
        '{"result":"expired","effect":…,"scrubbed":…} (exit 3 when the trigger has no live key)',
    )
    .argument(
      "<trigger>",
      "KIND:ID, e.g. encryption-key:1; quote a string id that looks like a number: 'subject:\"1\"'",
    )
    .action(async (text: string, _flags: unknown, command: Command) => {
      const trigger = parseIdentity(text, "trigger");
      const result = await withStore(command, (store) => openKeystore(store).expire(trigger));
      if (result.result === "absent") {
        throw new CliError(`no live key for ${text}: nothing written`, ExitCode.notFound);
      }
      printJson(result);
    });

  keys
    .command("expire-due")
    .description(
      'expire every key whose expiry time has come (run it from a scheduler); prints {"effects":[…],"scrubbed":…}',
    )
    .option("--now <timestamp>", "expire the keys due at this ISO 8601 time instead of the current time")
    .action(async (flags: { now?: string }, command: Command) => {
      const now = flags.now === undefined ? new Date() : parseTimestamp(flags.now, "--now");
      printJson(await withStore(command, (store) => openKeystore(store).expireDue(now)));
    });
}
