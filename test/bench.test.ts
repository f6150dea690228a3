import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { benchStore } from "../bench/bench-store.js";
import { sizesFor } from "../bench/config.js";
import { markdownTable } from "../bench/report.js";

// Keeps `npm run bench` working: every workload at tiny sizes on SQLite. Nothing here is timed.
describe("bench", () => {
  test("every workload runs at tiny sizes on SQLite, beside its baseline, and reports each figure", async () => {
    const sizes = sizesFor("tiny");
    const result = await benchStore("sqlite", sizes, () => {});
    for (const pair of [result.w1, result.w2, result.stream, result.aggregate, result.bigStream, result.bigBuild]) {
      expect(pair.store).toBeGreaterThan(0);
      expect(pair.raw).toBeGreaterThan(0);
      expect(pair.ratio).toBeCloseTo(pair.store / pair.raw);
    }
    expect(result.bigStream.storeMaxRssMB).toBeGreaterThan(0);
    expect(result.latency.smallMs).toBeGreaterThan(0);
    expect(result.latency.bigMs).toBeGreaterThan(0);
    expect(result.latency.growth).toBeCloseTo(result.latency.bigMs / result.latency.smallMs);
    expect(result.w4.committed).toBeGreaterThan(0);
    // The writers measured their own CPU: some, for each kind of writer.
    for (const ms of Object.values(result.w4.cpuMs)) expect(ms).toBeGreaterThan(0);
    expect(markdownTable([result], sizes)).toContain("| W1: 200 one-action rebases, events/s |");
    // About 14 child processes, one after another: 20 s in a quick CI run, twice that in a slow one.
  }, 180_000);

  test("bench/shared-trigger.ts runs on SQLite and prints its three figures", () => {
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "bench/shared-trigger.ts", "sqlite", "60", "5", "3"],
      {
        encoding: "utf8",
      },
    );
    expect(out).toMatch(
      /stream from the first effect [\d.]+ ms, one-action rebase on the head [\d.]+ ms, on base 2 \(a conflict\) [\d.]+ ms/,
    );
  });
});
