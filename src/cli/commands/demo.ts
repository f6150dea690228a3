import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { RebaseResult, Store } from "../../index.js";
import { type DemoRebase, walkthrough } from "../demo-walkthrough.js";
import { CliError } from "../exit-codes.js";
import { describeEvent, eventColumns, formatFields, formatIdentity, styles, table } from "../format.js";
import { isMissingTable } from "../report-error.js";
import { givenDb, IN_PROCESS, redactUrl, withStore } from "../store-option.js";

/** Where the projection of the last step starts reading. */
const STREAM_OFFSET = 6;

/** `coherence demo`: plays the walkthrough of SPEC section 6 and prints each step. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("play the walkthrough (two actors, a conflict, an expired key) on a fresh SQLite file")
    .addHelpText(
      "after",
      "\nWithout --db the demo uses a temporary SQLite file and removes it, also when interrupted; with --db the\n" +
        "store must be empty. The demo reads only --db, never COHERENCE_DB: it writes its own events.",
    )
    .action(async (_flags: unknown, command: Command) => {
      const given = givenDb(command);
      let dir: string | undefined;
      // Listening first: setting up a process's first signal listener takes a few milliseconds,
      // and a signal then would end the process with the folder made.
      const removeOnSignal = given === undefined ? removingOnSignal(() => dir) : undefined;
      dir = given === undefined ? mkdtempSync(join(tmpdir(), "coherence-demo-")) : undefined;
      const url = given ?? `sqlite:${join(dir!, "demo.db")}`;
      try {
        await withStore(
          command,
          (store) => play(store, url, keptAs(command, given), (line) => process.stdout.write(`${line}\n`)),
          { url, creates: true },
        );
      } finally {
        // Removed before the listeners go: a signal while it is removed would end the process by
        // default, with the folder left.
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        removeOnSignal?.();
      }
    });
}

/**
 * Removes the folder `dir()` names, if any, when SIGINT or SIGTERM ends the
 * process, then ends it by that signal as it would have ended anyway (exit
 * 130 or 143 in a shell); returns what stops listening. better-sqlite3 works
 * synchronously, so a signal that comes while the walkthrough plays (some
 * 30 ms) lets it finish: the process then ends as after any demo, its folder
 * removed.
 */
function removingOnSignal(dir: () => string | undefined): () => void {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const stop = () => {
    for (const signal of signals) process.off(signal, handlers[signal]);
  };
  const handlers = Object.fromEntries(
    signals.map((signal) => [
      signal,
      () => {
        stop();
        const made = dir();
        if (made !== undefined) rmSync(made, { recursive: true, force: true });
        process.kill(process.pid, signal);
      },
    ]),
  ) as Record<(typeof signals)[number], () => void>;
  for (const signal of signals) process.once(signal, handlers[signal]);
  return stop;
}

/** The options that open the demo's store again (`--db`, `--tables`); undefined when nothing of it stays. */
function keptAs(command: Command, given: string | undefined): string | undefined {
  if (given === undefined || IN_PROCESS.test(given)) return undefined;
  const tables = command.optsWithGlobals<{ tables?: string }>().tables ?? (process.env.COHERENCE_TABLES || undefined);
  // A password in the URL shows as ***: the same --db as this run's opens the store.
  return `--db ${redactUrl(given)}${tables === undefined ? "" : ` --tables ${tables}`}`;
}

async function play(store: Store, url: string, kept: string | undefined, print: (line: string) => void): Promise<void> {
  const s = styles(process.stdout);
  // Refused before initSchema: a store of an earlier release is not upgraded by a demo it refuses.
  const head = await store.currentSeqNo().catch((error: unknown) => {
    if (isMissingTable(error)) return 0;
    throw error;
  });
  if (head > 0)
    throw new CliError(`demo: the store ${redactUrl(url)} is not empty (${head} events); the demo needs an empty one`);
  await store.initSchema();
  print(s.bold("coherence demo: every write is a rebase"));
  print(s.dim(`store ${redactUrl(url)}`));
  let n = 0;
  for (const step of walkthrough()) {
    print("");
    print(s.bold(`${++n}. ${step.title}`));
    print(s.dim(`   ${step.why}`));
    printSent(step, print);
    printResult(await store.rebase(step.base, step.history, { resolved: step.resolved ?? [] }), print, s);
  }

  print("");
  print(s.bold(`${++n}. A projection reads the stream from offset ${STREAM_OFFSET}`));
  print(s.dim("   It has seen seqNos 1 to 5. The expired key makes it replay receipt 1, so it can forget the number."));
  print(`   sent      stream offset ${STREAM_OFFSET}`);
  const rows: string[][] = [];
  for await (const action of store.stream({ offset: STREAM_OFFSET })) {
    const note = action.seqNo < STREAM_OFFSET ? "replayed: an effect since the offset hit its trigger" : "";
    rows.push([`seqNo ${action.seqNo}`, formatIdentity(action.action.aggregate), note]);
  }
  printRows("received", rows, print);

  const neuromancer = ["book", "Neuromancer"] as const;
  print("");
  print(s.bold(`${++n}. The state of ${formatIdentity(neuromancer)}`));
  print(s.dim("   Its patches folded in order: Alice's create, then Bob's update."));
  print(`   sent      aggregate ${formatIdentity(neuromancer)}`);
  const state = await store.aggregate(neuromancer);
  print(`   received  ${state ? `seqNo ${state.seqNo}  ${formatFields(state.state)}` : "nothing"}`);
  print("");
  if (kept !== undefined) {
    print(s.dim(`The store stays. Explore it: npx coherence ${kept} stream`));
    print(s.dim("(or: state book Neuromancer). More: npx coherence --help."));
  } else {
    print(s.dim("To keep the store and explore it: npx coherence --db sqlite:demo.db demo, then"));
    print(s.dim("npx coherence --db sqlite:demo.db stream (or: state book Neuromancer). More: npx coherence --help."));
  }
}

function printSent(step: DemoRebase, print: (line: string) => void): void {
  const resolved = step.resolved?.length ? `, resolved [${step.resolved.join(", ")}]` : "";
  print(`   sent      rebase on base ${step.base}${resolved}`);
  for (const line of table(step.history.map(eventColumns), " ".repeat(13))) print(line);
}

function printRows(label: string, rows: readonly (readonly string[])[], print: (line: string) => void): void {
  for (const [i, line] of table(rows, "").entries()) print(`   ${(i === 0 ? label : "").padEnd(8)}  ${line}`);
}

function printResult(r: RebaseResult, print: (line: string) => void, s: ReturnType<typeof styles>): void {
  switch (r.result) {
    case "ok":
      print(`   received  ${s.green("ok")}, written as seqNo ${r.events.map((e) => e.seqNo).join(", ")}`);
      return;
    case "conflict":
      print(`   received  ${s.yellow("conflict")}, nothing written`);
      printRows(
        "",
        [
          ...r.events.map((e) => ["events", `seqNo ${e.seqNo}`, describeEvent(e), "passed the check"]),
          ["ours", `seqNo ${r.conflict.ours.seqNo}`, describeEvent(r.conflict.ours), "the action in conflict"],
          ["theirs", `seqNo ${r.conflict.theirs.seqNo}`, describeEvent(r.conflict.theirs), "changed it since base"],
        ],
        print,
      );
      return;
    case "invalid-seq-no":
      print(`   received  ${s.yellow("invalid-seq-no")}, the next seqNo is ${r.nextSeqNo}`);
      return;
    case "write-conflict":
      print(`   received  ${s.yellow("write-conflict")}: ${r.error.message}`);
      return;
  }
}
