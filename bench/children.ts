import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildResult, ChildTask } from "./child.js";

// Compiled (`npm run bench`) the child is plain JS; under vitest or tsx it is TypeScript and needs the loader.
const TYPESCRIPT = import.meta.url.endsWith(".ts");
const CHILD = fileURLToPath(new URL(TYPESCRIPT ? "./child.ts" : "./child.js", import.meta.url));

function next(child: ChildProcess, key: "ready" | "result"): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (!(key in m)) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(m[key]);
    };
    const onExit = (code: number | null) => reject(new Error(`bench child exited with ${code} before ${key}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** Runs tasks in child processes started at once: all set up, then all go together. */
export async function runChildren(tasks: readonly ChildTask[]): Promise<ChildResult[]> {
  const children = tasks.map(() =>
    fork(CHILD, [], {
      execArgv: TYPESCRIPT ? ["--import", "tsx"] : [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  try {
    const ready = children.map((c) => next(c, "ready"));
    children.forEach((c, i) => {
      c.send(tasks[i] as ChildTask);
    });
    await Promise.all(ready);
    const results = children.map((c) => next(c, "result"));
    for (const c of children) c.send({ go: true });
    return (await Promise.all(results)) as ChildResult[];
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}
