import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("./support/loaded-packages.ts", import.meta.url));

/** The database packages a fresh process has loaded after opening a store on `url`. */
function loadedBy(url: string): string[] {
  return JSON.parse(execFileSync(process.execPath, ["--import", "tsx", SCRIPT, url], { encoding: "utf8" }));
}

describe("a process loads the database package of the stores it opens, and no other", () => {
  it.each([
    ["sqlite::memory:", ["better-sqlite3"]],
    ["postgres://nobody@127.0.0.1:1/none", ["pg"]],
    ["mysql://nobody@127.0.0.1:1/none", ["mysql2"]],
  ])("%s loads %j", (url, expected) => {
    expect(loadedBy(url)).toEqual(expected);
  });
});
