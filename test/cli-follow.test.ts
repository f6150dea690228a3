import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, runProjection } from "../src/index.js";
import { act } from "./support/events.js";

const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "coherence-cli-follow-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `coherence ARGS` through tsx, with its stdout by line as it comes. */
function coherence(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  let rest = "";
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts);
    for (const l of listeners) l();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    until: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (lines.length < n) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      }),
  };
}

describe("coherence stream --follow, coherence projections", () => {
  it("stream --follow prints the stream, then new commits, and ends with exit 0 on SIGTERM", async () => {
    const url = `sqlite:${join(root, "follow.db")}`;
    const store = openStore(url);
    await store.initSchema();
    await store.rebase(1, [act(["book", "Neuromancer"]), act(["book", "Count Zero"])]);
    const run = coherence(["--db", url, "stream", "--follow", "--offset", "2"]);
    await run.until(1);
    await store.rebase(3, [act(["book", "Mona Lisa Overdrive"])]);
    await run.until(2);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.lines.map((l) => JSON.parse(l).seqNo)).toEqual([2, 3]);
    expect(JSON.parse(run.lines[1] as string).action.aggregate).toEqual(["book", "Mona Lisa Overdrive"]);
    await store.close();
  }, 60_000);

  it("projections prints each projection's checkpoint and lag as NDJSON", async () => {
    const url = `sqlite:${join(root, "projections.db")}`;
    const store = openStore(url);
    await store.initSchema();
    await store.rebase(1, [act(["book", 1]), act(["book", 2])]);
    const controller = new AbortController();
    await runProjection(
      store,
      { name: "titles", apply() {} },
      { signal: controller.signal, onCaughtUp: () => controller.abort() },
    );
    await store.rebase(3, [act(["book", 3])]);
    await store.close();
    const run = coherence(["--db", url, "projections"]);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.lines.map((l) => JSON.parse(l))).toEqual([
      { name: "titles", checkpoint: 2, head: 3, lag: 1, updatedAt: expect.any(String) },
    ]);
  }, 60_000);
});
