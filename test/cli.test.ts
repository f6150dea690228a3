import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../src/cli/exit-codes.js";
import { parseId, parseIdentity, parseIntegerList } from "../src/cli/parse.js";
import { redactUrl } from "../src/cli/store-option.js";
import { parseTimestamp } from "../src/cli/timestamp.js";
import { openStore, type StoredAction } from "../src/index.js";
import { storesNamed } from "./stores.js";
import { type BuiltCli, buildCli, type CliRun, type CliRunOptions } from "./support/cli-run.js";
import { act, eff, T0 } from "./support/events.js";

// Every test works in its own folder of one temp dir: databases, inputs, the demo's temp files.
let root: string;
let n = 0;
let cli: BuiltCli | undefined;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "coherence-cli-"));
  cli = await buildCli();
});
afterAll(() => {
  cli?.dispose();
  rmSync(root, { recursive: true, force: true });
});

function runCli(args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  return cli!.run(args, options);
}

function workdir(): { cwd: string; url: string } {
  const cwd = mkdtempSync(join(root, `t${++n}-`));
  return { cwd, url: `sqlite:${join(cwd, "store.db")}` };
}

/** What the store holds, read through the public API rather than the CLI under test. */
async function head(url: string): Promise<number> {
  const store = openStore(url);
  try {
    await store.initSchema();
    return await store.currentSeqNo();
  } finally {
    await store.close();
  }
}

const ndjson = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join("\n");
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

describe("coherence demo plays the walkthrough of SPEC section 6", () => {
  it("prints each step with the results of the seed README and exits 0, leaving no temp file", async () => {
    const { cwd } = workdir();
    const run = await runCli(["demo"], { cwd, env: { TMPDIR: cwd } });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = run.stdout;
    const order = [
      "1. Alice adds two books",
      "ok, written as seqNo 1, 2",
      "2. Bob adds two books",
      "conflict, nothing written",
      'events  seqNo 3  book "Mona Lisa Overdrive" by user "bob"',
      'ours    seqNo 4  book "Neuromancer" by user "bob"',
      'theirs  seqNo 1  book "Neuromancer" by user "alice"',
      "rebase on base 1, resolved [1]",
      "ok, written as seqNo 3, 4",
      "triggers encryption-key 1",
      "ok, written as seqNo 5, 6",
      'source "keystore"  key-expired  encryption-key 1',
      "ok, written as seqNo 7",
      "stream offset 6",
      "seqNo 5  receipt 1  replayed",
      "seqNo 6  receipt 2",
      'The state of book "Neuromancer"',
      'seqNo 4  author="William Gibson", genre="Cyberpunk"',
    ];
    let at = 0;
    for (const text of order) {
      const found = out.indexOf(text, at);
      expect(found, `"${text}" after position ${at} in:\n${out}`).toBeGreaterThanOrEqual(0);
      at = found + text.length;
    }
    expect(out).not.toMatch(/^\s*[{[]/m);
    expect(readdirSync(cwd).filter((f) => f.startsWith("coherence-demo-"))).toEqual([]);
  });

  it("SIGINT or SIGTERM once its temporary folder exists leaves nothing behind", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const { cwd } = workdir();
      const demoDirs = () => readdirSync(cwd).filter((f) => f.startsWith("coherence-demo-"));
      const child = spawn(process.execPath, [cli!.main, "demo"], {
        cwd,
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH ?? "", TMPDIR: cwd },
      });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      const ended = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on("close", (code, by) => resolve(by ?? code)),
      );
      // The signal as soon as the folder is there: while the store is made or the walkthrough plays.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (demoDirs().length === 0) return;
          clearInterval(poll);
          child.kill(signal);
          resolve();
        }, 1);
      });
      const end = await ended;
      // better-sqlite3 works synchronously: the signal is handled once the walkthrough is done, or ends it before.
      if (end === 0) expect(stdout).toContain(`The state of book "Neuromancer"`);
      else expect(end).toBe(signal);
      expect(demoDirs(), `ended by ${String(end)}`).toEqual([]);
    }
  });

  it("writes the walkthrough into an empty --db, and refuses a store that is not empty (exit 2)", async () => {
    const { cwd, url } = workdir();
    const demo = await runCli(["demo", "--db", url], { cwd });
    expect(demo.code).toBe(0);
    // Its closing hint names the store it wrote, not the temporary one of a demo without --db.
    expect(demo.stdout).toContain(`npx coherence --db ${url} stream`);
    expect(demo.stdout).not.toContain("sqlite:demo.db");
    const other = workdir();
    const renamed = await runCli(["demo", "--db", other.url, "--tables", "event=log"], { cwd: other.cwd });
    expect(renamed.stdout).toContain(`npx coherence --db ${other.url} --tables event=log stream`);
    // Nothing of an in-process store stays: the hint is the one of a temporary file.
    expect((await runCli(["demo", "--db", "memory:"], { cwd })).stdout).toContain("sqlite:demo.db");
    const stream = await runCli(["stream", "--db", url], { cwd });
    const seqNos = lines(stream.stdout).map((l) => (JSON.parse(l) as { seqNo: number }).seqNo);
    expect(seqNos).toEqual([1, 2, 3, 4, 5, 6]);
    const again = await runCli(["demo", "--db", url], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^coherence: demo: the store .* is not empty \(7 events\)/);
    // A store that says it is of an earlier schema version is refused as it is: the demo does not upgrade it.
    const version = (set?: number) => {
      const db = new Database(url.slice("sqlite:".length));
      try {
        if (set !== undefined) db.prepare("update events_meta set value = ? where name = 'schema-version'").run(set);
        return (db.prepare("select value from events_meta where name = 'schema-version'").get() as { value: number })
          .value;
      } finally {
        db.close();
      }
    };
    const current = version();
    version(1);
    const old = await runCli(["demo", "--db", url], { cwd });
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/^coherence: demo: the store .* is not empty \(7 events\)/);
    expect(version()).toBe(1);
    version(current);
    expect(await head(url)).toBe(7);
  });
});

describe("init, rebase, stream and state round-trip through the store", () => {
  it("appends a JSON file and NDJSON from stdin, streams them back exactly, folds the state", async () => {
    const { cwd, url } = workdir();
    const env = { COHERENCE_DB: url };
    expect(await runCli(["init"], { cwd, env })).toMatchObject({ code: 0, stderr: "" });

    const first = [
      act(["book", 1], { assoc: { title: "Neuromancer", tags: ["scifi"] } }),
      act(["book", "1"], { assoc: [[["a", "b"], null]] }),
    ];
    // A byte order mark and CRLF line ends, as Windows editors write them, are read too.
    writeFileSync(join(cwd, "first.json"), `\uFEFF${JSON.stringify(first)}`);
    const r1 = await runCli(["rebase", "--base", "1", "--file", "first.json"], { cwd, env });
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout)).toMatchObject({ result: "ok", events: [{ seqNo: 1 }, { seqNo: 2 }] });

    const second = [
      act(["book", 1], { dissoc: ["tags"] }, { reason: "update", triggers: [["key", 7]] }),
      eff(["key", 7]),
    ];
    const r2 = await runCli(["rebase", "--base", "3"], { cwd, env, stdin: ndjson(second).replaceAll("\n", "\r\n") });
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ result: "ok", events: [{ seqNo: 3 }, { seqNo: 4 }] });

    const stream = await runCli(["stream"], { cwd, env });
    expect(stream.code).toBe(0);
    const streamed = lines(stream.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    const written = [first[0], first[1], second[0]].map((e, i) => ({
      seqNo: i + 1,
      ...e,
      timestamp: T0.toISOString(),
    }));
    expect(streamed).toEqual(written);

    // Offset 4 sees the effect on key 7: book 1, which carries that trigger, is replayed.
    const replay = await runCli(["stream", "--offset", "4"], { cwd, env });
    expect(lines(replay.stdout).map((l) => (JSON.parse(l) as StoredAction).seqNo)).toEqual([1, 3]);
    const filtered = await runCli(["stream", "--aggregate", 'book:"1"'], { cwd, env });
    expect(lines(filtered.stdout).map((l) => (JSON.parse(l) as StoredAction).seqNo)).toEqual([2]);
    // The effect at seqNo 4 replays book 1 from before the offset, under the same filter.
    const byKind = await runCli(["stream", "--kind", "shelf", "--kind", "book", "--offset", "2"], { cwd, env });
    expect(lines(byKind.stdout).map((l) => (JSON.parse(l) as StoredAction).seqNo)).toEqual([1, 2, 3]);

    const state = await runCli(["state", "book", "1"], { cwd, env });
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout)).toEqual({ state: { title: "Neuromancer" }, seqNo: 3 });
    const quoted = await runCli(["state", "book", '"1"'], { cwd, env });
    expect(JSON.parse(quoted.stdout)).toEqual({ state: { a: { b: null } }, seqNo: 2 });
  });

  it("what stream prints is written again by rebase, years beyond 9999 and before 0 included", async () => {
    const { cwd, url } = workdir();
    const store = openStore(url);
    await store.initSchema();
    const far = [new Date(Date.UTC(10000, 0, 1, 0, 30)), new Date(Date.UTC(-1, 11, 31, 23, 30)), new Date(8.64e15)];
    await store.rebase(
      1,
      far.map((timestamp, i) => ({ ...act(["book", i]), timestamp })),
    );
    await store.close();
    const printed = await runCli(["stream", "--db", url], { cwd });
    expect(printed.code, printed.stderr).toBe(0);
    expect(lines(printed.stdout).map((l) => JSON.parse(l).timestamp)).toEqual([
      "+010000-01-01T00:30:00.000Z",
      "-000001-12-31T23:30:00.000Z",
      "+275760-09-13T00:00:00.000Z",
    ]);
    const copy = `sqlite:${join(cwd, "copy.db")}`;
    expect((await runCli(["init", "--db", copy], { cwd })).code).toBe(0);
    // A stored action without its seqNo is a new event.
    const events = lines(printed.stdout).map((l) => {
      const { seqNo: _, ...event } = JSON.parse(l);
      return event;
    });
    const written = await runCli(["rebase", "--db", copy, "--base", "1"], { cwd, stdin: ndjson(events) });
    expect(written.code, written.stderr).toBe(0);
    expect((await runCli(["stream", "--db", copy], { cwd })).stdout).toBe(printed.stdout);
  });

  it("reads one event spread over several lines, and --id makes a retry return the first result", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const stdin = JSON.stringify(act(["book", "b"]), null, 2);
    const args = ["rebase", "--db", url, "--base", "1", "--id", "order-17"];
    const first = await runCli(args, { cwd, stdin });
    const retry = await runCli(args, { cwd, stdin });
    expect(first.code).toBe(0);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toEqual(JSON.parse(first.stdout));
    expect(await head(url)).toBe(1);
  });

  it("exits 3 with one line when the aggregate has no actions", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const run = await runCli(["--db", url, "state", "book", "nothing"], { cwd });
    expect(run).toEqual({ code: 3, stdout: "", stderr: 'coherence: no actions on book "nothing"\n' });
    // Digits are a number: the message says how to name the string.
    const numeric = await runCli(["--db", url, "state", "book", "9780441569595"], { cwd });
    expect(numeric.stderr).toBe(
      "coherence: no actions on book 9780441569595 (the number; the string is book '\"9780441569595\"')\n",
    );
  });

  it("uses sqlite:coherence.db in the working directory when neither --db nor COHERENCE_DB is given", async () => {
    const { cwd } = workdir();
    expect((await runCli(["init"], { cwd })).stdout).toBe("schema ready in sqlite:coherence.db\n");
    expect(readdirSync(cwd)).toContain("coherence.db");
  });
});

describe("--tables reaches a store whose relations are renamed", () => {
  it("every command reads and writes the relations it names (also from COHERENCE_TABLES)", async () => {
    const { cwd, url } = workdir();
    const tables = { event: "order_log", action: "order_actions" };
    const store = openStore(url, { tables });
    await store.initSchema();
    expect((await store.rebase(1, [act(["order", 1], { assoc: { n: 1 } })])).result).toBe("ok");
    await store.close();
    const flag = ["--db", url, "--tables", "event=order_log, action=order_actions"];
    const state = await runCli([...flag, "state", "order", "1"], { cwd });
    expect(state).toMatchObject({ code: 0, stdout: '{"state":{"n":1},"seqNo":1}\n' });
    const rebased = await runCli([...flag, "rebase", "--base", "2"], {
      cwd,
      stdin: JSON.stringify({ ...act(["order", 1], { assoc: { n: 2 } }), timestamp: T0.toISOString() }),
    });
    expect(rebased.code, rebased.stderr).toBe(0);
    const env = { COHERENCE_TABLES: "event=order_log,action=order_actions" };
    const streamed = await runCli(["--db", url, "stream"], { cwd, env });
    expect(lines(streamed.stdout).map((l) => (JSON.parse(l) as StoredAction).seqNo)).toEqual([1, 2]);
    expect((await runCli(["--db", url, "keys", "list"], { cwd, env })).code).toBe(0);
    // Without the names, the default relations are not there: refused before the file is opened.
    const unnamed = await runCli(["--db", url, "state", "order", "1"], { cwd });
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toMatch(/^coherence: --db: .* holds no store \(no relation events\)/);
  });

  it("a malformed --tables or a bad name exits 2 with one line naming it", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const runs = await Promise.all([
      runCli(["--db", url, "--tables", "events=x", "state", "order", "1"], { cwd }),
      runCli(["--db", url, "--tables", "event", "state", "order", "1"], { cwd }),
      runCli(["--db", url, "--tables", "event=a,event=b", "state", "order", "1"], { cwd }),
      runCli(["--db", url, "--tables", "event=1x", "state", "order", "1"], { cwd }),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr), run.stderr).toHaveLength(1);
    }
    expect(runs[3]?.stderr).toMatch(/options\.tables\.event/);
  });

  it("a store of the process (memory:, sqlite::memory:) is refused but by the demo: each command would see it empty", async () => {
    const { cwd } = workdir();
    for (const db of ["memory:", "sqlite::memory:"]) {
      for (const args of [["state", "order", "1"], ["init"]]) {
        const run = await runCli(["--db", db, ...args], { cwd });
        expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(/^coherence: --db: .* keeps nothing/) });
      }
    }
    const demo = await runCli(["--db", "memory:", "demo"], { cwd });
    expect(demo.code, demo.stderr).toBe(0);
  });
});

describe("rebase results other than ok exit 4 and still print the JSON result", () => {
  it("conflict: ours and theirs, nothing written", async () => {
    const { cwd, url } = workdir();
    const env = { COHERENCE_DB: url };
    await head(url);
    const history = ndjson([act(["book", "b"])]);
    expect((await runCli(["rebase", "--base", "1"], { cwd, env, stdin: history })).code).toBe(0);
    const run = await runCli(["rebase", "--base", "1"], { cwd, env, stdin: history });
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout)).toMatchObject({
      result: "conflict",
      events: [],
      conflict: { ours: { seqNo: 2 }, theirs: { seqNo: 1 } },
    });
    expect(await head(url)).toBe(1);
    const resolved = await runCli(["rebase", "--base", "1", "--resolved", "1"], { cwd, env, stdin: history });
    expect(resolved.code).toBe(0);
    expect(await head(url)).toBe(2);
  });

  it("invalid-seq-no: a base beyond the next seqNo", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const run = await runCli(["rebase", "--db", url, "--base", "5"], { cwd, stdin: ndjson([act(["book", "b"])]) });
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout)).toEqual({ result: "invalid-seq-no", nextSeqNo: 1 });
  });

  it("--dry prints the ok result and writes nothing", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const run = await runCli(["rebase", "--db", url, "--base", "1", "--dry"], { cwd, stdin: ndjson([act(["b", 1])]) });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: "ok", events: [{ seqNo: 1 }] });
    expect(await head(url)).toBe(0);
  });
});

describe("bad input exits 2 with one line on stderr and writes nothing", () => {
  const good = act(["book", "b"]);
  const cases: { name: string; args: string[]; stdin: string; message: RegExp }[] = [
    {
      name: "an invalid field, named by its path",
      args: ["--base", "1"],
      stdin: ndjson([good, { ...good, action: { ...good.action, aggregate: ["book", 1.5] } }]),
      message: /^coherence: history\[1\]\.action\.aggregate\[1\]: expected a safe integer or a non-empty string/,
    },
    {
      name: "a timestamp that is not ISO 8601",
      args: ["--base", "1"],
      stdin: ndjson([good, { ...good, timestamp: "26/11/2026" }]),
      message: /^coherence: history\[1\]\.timestamp: expected an ISO 8601 timestamp/,
    },
    {
      name: "a timestamp without a zone",
      args: ["--base", "1"],
      stdin: ndjson([{ ...good, timestamp: "2026-11-26T10:00:00" }]),
      message: /^coherence: history\[0\]\.timestamp: expected an ISO 8601 timestamp with a zone/,
    },
    {
      name: "a date that does not exist",
      args: ["--base", "1"],
      stdin: ndjson([{ ...good, timestamp: "2026-02-30T10:00:00Z" }]),
      message: /^coherence: history\[0\]\.timestamp: "2026-02-30T10:00:00Z" is not a valid date and time\n$/,
    },
    {
      name: "a line that is not JSON",
      args: ["--base", "1"],
      stdin: `${JSON.stringify(good)}\n{"timestamp":`,
      message: /^coherence: input line 2: invalid JSON/,
    },
    {
      name: "a number JSON would store as another, on an NDJSON line",
      args: ["--base", "1"],
      stdin: `${JSON.stringify(good)}\n  {"timestamp":"2026-11-26T10:00:00Z","source":"s","action":{"reason":"r","actor":["u",1],"aggregate":["b",1],"patch":{"assoc":{"n":9007199254740993}}}}`,
      message:
        /^coherence: input line 2, column 133: the number 9007199254740993 would be stored as 9007199254740992 \(.*write it as a string/,
    },
    {
      name: "a key given twice, in an array spread over lines",
      args: ["--base", "1"],
      stdin: `[\n${JSON.stringify(good)},\n{"timestamp":"2026-11-26T10:00:00Z", "source":"s", "source":"t"}]`,
      message: /^coherence: input line 3, column 52: the key "source" is given twice in one object/,
    },
    {
      name: "an empty history",
      args: ["--base", "1"],
      stdin: "[]",
      message: /^coherence: history: /,
    },
    { name: "a base that is no number", args: ["--base", "x"], stdin: ndjson([good]), message: /^coherence: --base: / },
    {
      name: "base 0",
      args: ["--base", "0"],
      stdin: ndjson([good]),
      message: /^coherence: --base: expected a positive integer, got "0"/,
    },
    {
      name: "a resolved seqNo 0",
      args: ["--base", "1", "--resolved", "0"],
      stdin: ndjson([good]),
      message: /^coherence: --resolved: expected a positive integer, got "0"/,
    },
    {
      // What Node makes of an argument that is not UTF-8 ($'r\xff' and $'r\xfe' alike).
      name: "an argument holding U+FFFD",
      args: ["--base", "1", "--id", "r\uFFFD"],
      stdin: ndjson([good]),
      message: /^coherence: argument 7 \("r\uFFFD"\) is not UTF-8, or holds U\+FFFD/,
    },
    {
      name: "a resolved list with a non-number",
      args: ["--base", "1", "--resolved", "1,a"],
      stdin: ndjson([good]),
      message: /^coherence: --resolved: /,
    },
    { name: "an unknown option", args: ["--base", "1", "--bogus"], stdin: "", message: /^coherence: unknown option/ },
    {
      name: "a missing file",
      args: ["--base", "1", "--file", "nope.json"],
      stdin: "",
      message: /^coherence: --file: /,
    },
  ];
  for (const c of cases) {
    it(`rebase with ${c.name}`, async () => {
      const { cwd, url } = workdir();
      await head(url);
      const run = await runCli(["rebase", "--db", url, ...c.args], { cwd, stdin: c.stdin });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toMatch(c.message);
      expect(await head(url)).toBe(0);
    });
  }

  it("init or demo of a SQLite file in a directory that does not exist: exit 2, naming --db", async () => {
    const { cwd } = workdir();
    for (const command of ["init", "demo"]) {
      const run = await runCli([command, "--db", `sqlite:${join(cwd, "nodir", "x.db")}`], { cwd });
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toEqual([
        `coherence: --db: cannot create ${join(cwd, "nodir", "x.db")}: its directory does not exist`,
      ]);
    }
  });

  it("stream and state with malformed arguments", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const runs = await Promise.all([
      runCli(["stream", "--db", url, "--aggregate", "book"], { cwd }),
      runCli(["stream", "--db", url, "--offset", "-1"], { cwd }),
      runCli(["state", "--db", url, "book", "99999999999999999999"], { cwd }),
      runCli(["state", "--db", url, "book"], { cwd }),
      runCli(["--db", "nosuch://x", "state", "book", "1"], { cwd }),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr), run.stderr).toHaveLength(1);
      expect(run.stderr).toMatch(/^coherence: /);
    }
  });
});

describe("input is read exactly or refused, and nothing is written", () => {
  const good = act(["book", "b"], { assoc: { name: "café" } });

  it("input that is not UTF-8 (Latin-1 bytes) exits 2, from a file or stdin", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const latin1 = Buffer.from(`${JSON.stringify(good)}\n`, "latin1");
    writeFileSync(join(cwd, "l.ndjson"), latin1);
    const fromFile = await runCli(["rebase", "--db", url, "--base", "1", "--file", "l.ndjson"], { cwd });
    const fromStdin = await runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: latin1 });
    for (const [run, where] of [
      [fromFile, "--file l.ndjson"],
      [fromStdin, "stdin"],
    ] as const) {
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toEqual([
        `coherence: ${where}: not UTF-8 text (an invalid byte sequence at byte ${latin1.indexOf(0xe9)}); nothing was written`,
      ]);
    }
    expect(await head(url)).toBe(0);
    // The byte named is the bad one, after a character of several bytes as well.
    const [afterChar, inArray] = [
      Buffer.from([0x61, 0x62, 0xc3, 0xa9, 0xff]),
      Buffer.from('[{"x":1}]\xc3\xa9\xff', "latin1"),
    ];
    for (const [bytes, at] of [
      [afterChar, 4],
      [inArray, 11],
    ] as const) {
      const run = await runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: bytes });
      expect(run.stderr).toContain(`invalid byte sequence at byte ${at})`);
    }
    // The same text in UTF-8 is stored as it is.
    const utf8 = await runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: Buffer.from(ndjson([good])) });
    expect(utf8.code, utf8.stderr).toBe(0);
    const state = await runCli(["state", "--db", url, "book", "b"], { cwd });
    expect(JSON.parse(state.stdout)).toEqual({ state: { name: "café" }, seqNo: 1 });
  });

  it("one event spread over lines, broken on its third, is reported where JSON.parse stumbles", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const pretty = JSON.stringify(good, null, 2).split("\n");
    // The comma after the source goes missing: JSON.parse stumbles at the start of the next line.
    expect(pretty[2]).toMatch(/^ {2}"source": .*,$/);
    pretty[2] = pretty[2]!.replace(/,$/, "");
    const run = await runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: pretty.join("\n") });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^coherence: input: invalid JSON at line 4, column 3 \(/);
    expect(await head(url)).toBe(0);
  });

  it("a SQLite file that does not exist is refused (exit 2) and not created, but by init", async () => {
    const { cwd } = workdir();
    const file = join(cwd, "typo.db");
    const url = `sqlite:${file}`;
    const runs = await Promise.all([
      runCli(["stream", "--db", url], { cwd }),
      runCli(["state", "--db", url, "book", "1"], { cwd }),
      runCli(["projections", "--db", url], { cwd }),
      runCli(["keys", "list", "--db", url], { cwd }),
      runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: ndjson([good]) }),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toEqual([
        `coherence: --db: no store at ${file} (no such file); \`coherence init\` creates one`,
      ]);
    }
    const fromEnv = await runCli(["stream"], { cwd, env: { COHERENCE_DB: url } });
    expect(fromEnv.stderr).toMatch(/^coherence: COHERENCE_DB: no store at /);
    const byDefault = await runCli(["stream"], { cwd });
    expect(byDefault.stderr).toMatch(/^coherence: --db \(default sqlite:coherence\.db\): no store at coherence\.db /);
    expect(readdirSync(cwd)).toEqual([]);
    const init = await runCli(["init", "--db", url], { cwd });
    expect(init.code, init.stderr).toBe(0);
    expect(readdirSync(cwd)).toContain("typo.db");
  });

  it("a file that holds no store, a directory or a file that is no database is refused (exit 2) and left as it was", async () => {
    const { cwd } = workdir();
    // Another program's database, in rollback-journal mode: opening it as a store would switch it to WAL.
    const foreign = join(cwd, "other.db");
    const db = new Database(foreign);
    db.exec("create table t (x); insert into t values (1)");
    db.close();
    const empty = join(cwd, "empty.db");
    writeFileSync(empty, "");
    const text = join(cwd, "notes.txt");
    writeFileSync(text, "not a database, but long enough for SQLite to read a header of it: ".repeat(4));
    const before = new Map([foreign, empty, text].map((f) => [f, readFileSync(f)]));
    const commands = (url: string) => [
      runCli(["stream", "--db", url], { cwd }),
      runCli(["state", "--db", url, "book", "1"], { cwd }),
      runCli(["projections", "--db", url], { cwd }),
      runCli(["keys", "list", "--db", url], { cwd }),
      runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: ndjson([good]) }),
    ];
    for (const file of [foreign, empty]) {
      for (const run of await Promise.all(commands(`sqlite:${file}`))) {
        expect(run.code, run.stderr).toBe(2);
        expect(lines(run.stderr)).toEqual([
          `coherence: --db: ${file} holds no store (no relation events); \`coherence init\` makes one`,
        ]);
      }
    }
    for (const run of await Promise.all(commands(`sqlite:${text}`))) {
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toEqual([`coherence: --db: ${text} is not a SQLite database`]);
    }
    for (const run of await Promise.all([
      ...commands(`sqlite:${cwd}`),
      runCli(["init", "--db", `sqlite:${cwd}`], { cwd }),
    ])) {
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toEqual([`coherence: --db: ${cwd} is a directory, not a SQLite file`]);
    }
    for (const [file, bytes] of before) expect(readFileSync(file).equals(bytes), file).toBe(true);
    expect(readdirSync(cwd).sort()).toEqual(["empty.db", "notes.txt", "other.db"]);
    // A store's file under other relation names is no store of the default ones, and the other way round.
    const store = join(cwd, "store.db");
    expect((await runCli(["init", "--db", `sqlite:${store}`], { cwd })).code).toBe(0);
    const renamed = await runCli(["stream", "--db", `sqlite:${store}`, "--tables", "event=log"], { cwd });
    expect(renamed.stderr).toBe(
      `coherence: --db: ${store} holds no store (no relation log); \`coherence init\` makes one\n`,
    );
    expect((await runCli(["stream", "--db", `sqlite:${store}`], { cwd })).code).toBe(0);
    // A --tables that names only some of a renamed store's relations: the others are the defaults, not there.
    const four = "event=order_log,action=order_actions,effect=order_effects,trigger=order_triggers";
    const orders = join(cwd, "orders.db");
    expect((await runCli(["init", "--db", `sqlite:${orders}`, "--tables", four], { cwd })).code).toBe(0);
    const partial = await runCli(["stream", "--db", `sqlite:${orders}`, "--tables", "event=order_log"], { cwd });
    expect(partial.code).toBe(2);
    expect(partial.stderr).toBe(
      `coherence: --db: ${orders} has the relation order_log but not actions: name all four relations in --tables, or \`coherence init\` makes them\n`,
    );
    expect((await runCli(["stream", "--db", `sqlite:${orders}`, "--tables", four], { cwd })).code).toBe(0);
  });

  it("COHERENCE_DB and COHERENCE_TABLES that were not UTF-8 are refused, not used altered", async () => {
    const { cwd, url } = workdir();
    await head(url);
    // Node reads each byte that is not UTF-8 as U+FFFD: the name used would not be the one given.
    const db = await runCli(["init"], { cwd, env: { COHERENCE_DB: `sqlite:${join(cwd, "caf\uFFFD.db")}` } });
    expect(db.code).toBe(2);
    expect(db.stderr).toMatch(/^coherence: COHERENCE_DB \(".*caf\uFFFD\.db"\) is not UTF-8, or holds U\+FFFD/);
    const tables = await runCli(["stream", "--db", url], { cwd, env: { COHERENCE_TABLES: "event=l\uFFFDg" } });
    expect(tables.code).toBe(2);
    expect(tables.stderr).toMatch(/^coherence: COHERENCE_TABLES \("event=l\uFFFDg"\) is not UTF-8/);
    expect(readdirSync(cwd)).toEqual(["store.db"]);
  });

  it("the library's refusals of what an option gave name that option", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const [aggregate, kind, id, tables] = await Promise.all([
      runCli(["stream", "--db", url, "--aggregate", ":x"], { cwd }),
      runCli(["stream", "--db", url, "--kind", ""], { cwd }),
      runCli(["rebase", "--db", url, "--base", "1", "--id", ""], { cwd, stdin: ndjson([act(["b", 1])]) }),
      runCli(["stream", "--db", url, "--tables", "event=bad-name"], { cwd }),
    ]);
    expect(aggregate.stderr).toMatch(/^coherence: --aggregate \(options\.aggregates\[0\]\[0\]\): /);
    expect(kind.stderr).toMatch(/^coherence: --kind \(options\.kinds\[0\]\): /);
    expect(id.stderr).toMatch(/^coherence: --id \(options\.id\): /);
    expect(tables.stderr).toMatch(/^coherence: --tables \(options\.tables\.event\): /);
    for (const run of [aggregate, kind, id, tables]) expect(run.code, run.stderr).toBe(2);
    expect(await head(url)).toBe(0);
  });

  it("a server URL whose port is no number exits 2 naming the url", async () => {
    const { cwd } = workdir();
    const runs = await Promise.all(
      ["mysql://root:pw@127.0.0.1:abc/x", "postgres://u:pw@host:notaport/db", "mariadb://u@h:99999/db"].map((url) =>
        runCli(["init", "--db", url], { cwd }),
      ),
    );
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(
        /^coherence: --db \(url\): the port "(abc|notaport|99999)" is not a number from 0 to 65535\n$/,
      );
    }
  });

  it("settings from the environment are named as such in errors", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const tables = await runCli(["stream", "--db", url], { cwd, env: { COHERENCE_TABLES: "bogus" } });
    expect(tables.code).toBe(2);
    expect(tables.stderr).toMatch(/^coherence: COHERENCE_TABLES: expected RELATION=NAME pairs/);
    const flag = await runCli(["stream", "--db", url, "--tables", "bogus"], { cwd });
    expect(flag.stderr).toMatch(/^coherence: --tables: expected RELATION=NAME pairs/);
    const memory = await runCli(["stream"], { cwd, env: { COHERENCE_DB: "memory:" } });
    expect(memory.code).toBe(2);
    expect(memory.stderr).toMatch(/^coherence: COHERENCE_DB: memory: keeps nothing between commands/);
    // The library's refusals of what a variable gave name the variable.
    const badTable = await runCli(["stream", "--db", url], { cwd, env: { COHERENCE_TABLES: "event=bad-name" } });
    expect(badTable.stderr).toMatch(/^coherence: COHERENCE_TABLES \(options\.tables\.event\): /);
    const badUrl = await runCli(["init"], { cwd, env: { COHERENCE_DB: "nope://x" } });
    expect(badUrl.stderr).toMatch(/^coherence: COHERENCE_DB \(url\): /);
    const both = await runCli(["init", "--db", "nope://x"], { cwd, env: { COHERENCE_DB: url } });
    expect(both.stderr).toMatch(/^coherence: --db \(url\): /);
  });
});

describe("output that cannot be written", () => {
  it("a reader that stops early leaves the exit code as chosen: 4 for a rebase that wrote nothing", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const history = ndjson([act(["book", "b"])]);
    expect((await runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: history })).code).toBe(0);
    const conflict = await runCli(["rebase", "--db", url, "--base", "1"], { cwd, stdin: history, closeStdout: true });
    expect(conflict.code, conflict.stderr).toBe(4);
    expect(conflict.stderr).toBe("");
    const ok = await runCli(["rebase", "--db", url, "--base", "2"], { cwd, stdin: history, closeStdout: true });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await head(url)).toBe(2);
  });

  it("a full disk exits 1 with one line, no stack trace", async () => {
    const { cwd, url } = workdir();
    await head(url);
    const store = openStore(url);
    await store.rebase(1, [act(["book", "b"])]);
    await store.close();
    const run = await runCli(["stream", "--db", url], { cwd, stdoutTo: "/dev/full" });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^coherence: cannot write the output: .*ENOSPC/)]);
  });
});

describe("failures a script can tell apart", () => {
  it("a database failure exits 1 with one line and no stack trace", async () => {
    const { cwd, url } = workdir();
    // A store whose action relation lost a column (its relations are all there): the read fails in the database.
    const store = openStore(url);
    await store.initSchema();
    await store.rebase(1, [act(["book", "b"])]);
    await store.close();
    const db = new Database(url.slice("sqlite:".length));
    db.exec("alter table actions rename column patch to patch_gone");
    db.close();
    const run = await runCli(["stream", "--db", url], { cwd });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^coherence: DatabaseError.*no such column/)]);
    const debug = await runCli(["stream", "--db", url], { cwd, env: { COHERENCE_DEBUG: "1" } });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  for (const factory of storesNamed("postgres", "mysql")) {
    it(`${factory.name}: a store whose relations were never made exits 1, and the line says to run init`, async () => {
      try {
        await factory.create();
        const { cwd } = workdir();
        const tables = "event=never_made,action=never_made_a,effect=never_made_e,trigger=never_made_t";
        const run = await runCli(["stream", "--db", factory.lastUrl as string, "--tables", tables], { cwd });
        expect(run.code).toBe(1);
        expect(lines(run.stderr)).toEqual([
          expect.stringMatching(/^coherence: DatabaseError.*never_made.*; run `coherence init` first\?$/),
        ]);
      } finally {
        await factory.dispose();
      }
    });
  }

  it("--help on every command exits 0 and documents the exit codes", async () => {
    const { cwd } = workdir();
    const runs = await Promise.all(
      [
        [],
        ["demo"],
        ["init"],
        ["rebase"],
        ["stream"],
        ["state"],
        ["projections"],
        ["keys"],
        ["keys", "list"],
        ["keys", "expire"],
        ["keys", "expire-due"],
      ].map((c) => runCli([...c, "--help"], { cwd })),
    );
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("--db <url>");
      expect(run.stdout).toContain("4  rebase not written");
    }
  });
});

describe("arguments and timestamps are read exactly or refused", () => {
  it("an id that reads as an integer is the number; quoted, it is the string", () => {
    expect(parseId("1", "id")).toBe(1);
    expect(parseId("-7", "id")).toBe(-7);
    expect(parseId('"1"', "id")).toBe("1");
    expect(parseId("007", "id")).toBe("007");
    expect(parseId("Neuromancer", "id")).toBe("Neuromancer");
    expect(parseIdentity("urn:isbn:0-441-56956-0", "--aggregate")).toEqual(["urn", "isbn:0-441-56956-0"]);
    expect(() => parseId("9007199254740992", "id")).toThrow(CliError);
    expect(() => parseId('"unterminated\\"', "id")).toThrow(/not a valid quoted/);
    expect(parseIntegerList("1, 2,5", "--resolved")).toEqual([1, 2, 5]);
    expect(parseIntegerList("", "--resolved")).toEqual([]);
  });

  it("timestamps keep the instant they name, zones included, and refuse what would change it", () => {
    const at = (text: string) => parseTimestamp(text, "t").toISOString();
    expect(at("2026-11-26T11:00:00.123+01:00")).toBe("2026-11-26T10:00:00.123Z");
    expect(at("2024-02-29T00:00Z")).toBe("2024-02-29T00:00:00.000Z");
    expect(at("0050-01-01T00:00:00Z")).toBe("0050-01-01T00:00:00.000Z");
    for (const bad of [
      "2025-02-29T00:00:00Z",
      "2026-11-26T10:00:00.1234Z",
      "2026-11-26",
      "2026-11-26T24:00:00Z",
      "x",
    ]) {
      expect(() => parseTimestamp(bad, "history[0].timestamp"), bad).toThrow(/^history\[0\]\.timestamp: /);
    }
    expect(() => parseTimestamp(1_795_687_200_123, "t")).toThrow(/expected an ISO 8601 timestamp/);
  });

  it("every instant a Date holds reads back from what output prints, years beyond 0-9999 included", () => {
    const instants = [
      8.64e15,
      -8.64e15,
      Date.UTC(10000, 0, 1, 0, 30),
      Date.UTC(-1, 11, 31, 23, 30),
      0,
      253402300799999,
    ];
    for (const t of instants) {
      const printed = new Date(t).toISOString();
      expect(parseTimestamp(printed, "t").getTime(), printed).toBe(t);
    }
    expect(parseTimestamp("9999-12-31T23:30:00-01:00", "t").toISOString()).toBe("+010000-01-01T00:30:00.000Z");
    for (const bad of [
      "+10000-01-01T00:00:00Z",
      "10000-01-01T00:00:00Z",
      "-000000-01-01T00:00:00Z",
      "+275761-01-01T00:00:00Z",
    ]) {
      expect(() => parseTimestamp(bad, "t"), bad).toThrow(/^t: /);
    }
  });
});

describe("URLs are printed without their password", () => {
  it("masks the password of a server URL and leaves others alone", () => {
    expect(redactUrl("postgres://app:s3cret@db.example:5432/shop")).toBe("postgres://app:***@db.example:5432/shop");
    expect(redactUrl("mysql://root@127.0.0.1/test")).toBe("mysql://root@127.0.0.1/test");
    expect(redactUrl("sqlite:a:b@c.db")).toBe("sqlite:a:b@c.db");
    // The user part ends at the last @ before the path, as the drivers read it.
    expect(redactUrl("postgres://postgres:hunter@2secret@127.0.0.1:5432/db")).toBe(
      "postgres://postgres:***@127.0.0.1:5432/db",
    );
    // A password given as a query parameter.
    expect(redactUrl("postgres://app@db/shop?sslmode=require&password=s3cret&x=1")).toBe(
      "postgres://app@db/shop?sslmode=require&password=***&x=1",
    );
    expect(redactUrl("mysql://app@db/shop?Password=s3cret#f")).toBe("mysql://app@db/shop?Password=***#f");
    // mysql2 takes password1 (and 2, 3) from the URL as passwords too.
    expect(redactUrl("mysql://app@db/shop?password1=a&password2=b&password3=c")).toBe(
      "mysql://app@db/shop?password1=***&password2=***&password3=***",
    );
    expect(redactUrl("postgres://db.example/shop")).toBe("postgres://db.example/shop");
  });
});
