import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What a run of `coherence` gave back. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of one run: its working directory, its stdin, the environment it gets. */
export interface CliRunOptions {
  readonly cwd: string;
  readonly stdin?: string | Buffer;
  /** Closes the reading end of stdout at once, as `| head -1` does once it has its line. */
  readonly closeStdout?: boolean;
  /** Sends stdout to this file (`/dev/full`: every write fails) instead of a pipe. */
  readonly stdoutTo?: string;
  /** The only variables the child sees besides PATH: no stray COHERENCE_DB leaks in. */
  readonly env?: Record<string, string>;
}

/** The CLI, freshly built. */
export interface BuiltCli {
  /** The built entry point, for a test that drives its process itself. */
  readonly main: string;
  /** Runs `coherence ARGS` as a child process. */
  run(args: readonly string[], options: CliRunOptions): Promise<CliRun>;
  /** Removes the build. */
  dispose(): void;
}

/**
 * Compiles the current sources into a private folder of `.tmp/` (never the
 * shared, possibly stale `dist/`), so that each run costs a plain `node`
 * start rather than a TypeScript loader's.
 */
export async function buildCli(): Promise<BuiltCli> {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const out = mkdtempSync(join(ROOT, ".tmp", "cli-"));
  const main = join(out, "cli", "main.js");
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const args = ["-p", "tsconfig.build.json", "--outDir", out, "--declaration", "false", "--sourceMap", "false"];
  // Type errors elsewhere in the tree (someone's work in progress) still emit JavaScript.
  await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: ROOT }).catch((error: unknown) => {
    if (!existsSync(main)) throw error;
  });
  return {
    main,
    run: (cliArgs, options) => run(main, cliArgs, options),
    dispose: () => rmSync(out, { recursive: true, force: true }),
  };
}

function run(main: string, args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const out = options.stdoutTo === undefined ? "pipe" : openSync(options.stdoutTo, "w");
    const child = spawn(process.execPath, [main, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "", ...options.env },
      stdio: ["pipe", out, "pipe"],
    });
    if (typeof out === "number") closeSync(out);
    let stdout = "";
    let stderr = "";
    if (options.closeStdout) child.stdout?.destroy();
    else child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(options.stdin ?? "");
  });
}
