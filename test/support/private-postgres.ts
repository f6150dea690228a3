import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = "/usr/lib/postgresql/15/bin";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * A PostgreSQL server of one test's own, in a temporary directory, that the
 * test may stop and start without disturbing the machine's shared server.
 * Runs as the `postgres` OS user (the server refuses root).
 */
export class PrivatePostgres {
  readonly #dir: string;
  readonly #data: string;

  private constructor(readonly port: number) {
    this.#dir = mkdtempSync(join(tmpdir(), "coherence-pg-"));
    this.#data = join(this.#dir, "data");
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(this.#dir, uid, gid);
  }

  /** The URL of its `postgres` database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  #run(tool: string, args: readonly string[]): void {
    execFileSync("runuser", ["-u", "postgres", "--", join(BIN, tool), ...args], { stdio: "pipe", cwd: this.#dir });
  }

  /** Creates the cluster and starts the server. */
  static async create(): Promise<PrivatePostgres> {
    const server = new PrivatePostgres(await freePort());
    try {
      server.#run("initdb", ["-D", server.#data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
      server.start();
    } catch (error) {
      // The test never gets the server to dispose of: leave no cluster or directory behind.
      server.dispose();
      throw error;
    }
    return server;
  }

  start(): void {
    const options = `-p ${this.port} -k ${this.#dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.#run("pg_ctl", ["-D", this.#data, "-o", options, "-l", join(this.#dir, "log"), "-w", "start"]);
  }

  /** Stops at once, as a crash would: every session is cut. */
  stop(): void {
    this.#run("pg_ctl", ["-D", this.#data, "-m", "immediate", "-w", "stop"]);
  }

  /** Stops the server if it runs and removes its directory. */
  dispose(): void {
    try {
      this.stop();
    } catch {
      // Already stopped.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
