/** Prints the README table of the full-scale results in bench/results (`npx tsx bench/table.ts`). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { StoreResult } from "./bench-store.js";
import type { Sizes } from "./config.js";
import type { Machine } from "./machine.js";
import { markdownTable } from "./report.js";

interface ResultFile {
  date: string;
  sizes: Sizes;
  machine: Machine;
  result: StoreResult;
}

const files: ResultFile[] = [];
for (const store of ["sqlite", "postgres", "mysql"]) {
  try {
    files.push(JSON.parse(readFileSync(join(process.cwd(), "bench", "results", `${store}.json`), "utf8")));
  } catch {
    // A store without full-scale results yet.
  }
}
const first = files[0];
if (first === undefined) throw new Error("no results in bench/results: run npm run bench first");
const m = first.machine;
console.log(
  markdownTable(
    files.map((f) => f.result),
    first.sizes,
  ),
);
console.log(
  `\nMachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.platform}, Node.js ${m.node}; run ${files.map((f) => `${f.result.store} ${f.date.slice(0, 16)}Z`).join(", ")}.`,
);
