import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { freePort } from "./private-postgres.js";

const START_TIMEOUT_MS = 30_000;

/**
 * A MariaDB server of one test's own, in a temporary directory, that the test
 * may kill and start again on the same port without disturbing the machine's
 * shared server. No grant tables: root connects without a password.
 */
export class PrivateMariadb {
  readonly #dir: string;
  #pid: number | undefined;

  private constructor(
    readonly port: number,
    /** Server options beyond the defaults below (`--lower-case-table-names=1`, `--max-allowed-packet=4M`, …). */
    readonly serverArgs: readonly string[] = [],
  ) {
    this.#dir = mkdtempSync(join(tmpdir(), "coherence-mariadb-"));
    mkdirSync(this.#tmp);
  }

  /**
   * Its own temporary directory. A MariaDB server deletes every `#sql*` file of its tmpdir
   * when it starts, and /tmp holds the internal temporary tables of the machine's shared
   * server: each start of a private server there pulled them from under its running
   * queries (signal 11 in `ha_maria::drop_table`; "Error on delete of '/tmp/#sql-temptable-…'").
   */
  get #tmp(): string {
    return join(this.#dir, "tmp");
  }

  /** The environment of its processes: TMPDIR for the bootstrap of `mariadb-install-db` too. */
  get #env(): NodeJS.ProcessEnv {
    return { ...process.env, TMPDIR: this.#tmp };
  }

  /** The URL of its `coherence` database. */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/coherence`;
  }

  /** Creates the data directory, starts the server and creates the `coherence` database. */
  static async create(serverArgs: readonly string[] = []): Promise<PrivateMariadb> {
    const server = new PrivateMariadb(await freePort(), serverArgs);
    try {
      execFileSync(
        "mariadb-install-db",
        ["--no-defaults", `--datadir=${join(server.#dir, "data")}`, "--user=root", "--skip-test-db", ...serverArgs],
        { stdio: "pipe", env: server.#env },
      );
      server.start();
      const connection = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
      await connection.query("create database coherence");
      await connection.end();
    } catch (error) {
      // The test never gets the server to dispose of: leave no process or directory behind.
      server.dispose();
      throw error;
    }
    return server;
  }

  /**
   * Starts the server and returns once it accepts connections. Synchronous,
   * like `pg_ctl`: the test process handles no socket event meanwhile, so a
   * restart leaves the pool holding connections it has not yet seen die, as
   * a busy process would.
   */
  start(): void {
    const args = [
      "--no-defaults",
      `--datadir=${join(this.#dir, "data")}`,
      `--tmpdir=${this.#tmp}`,
      `--socket=${join(this.#dir, "sock")}`,
      `--port=${this.port}`,
      "--bind-address=127.0.0.1",
      "--user=root",
      "--skip-grant-tables",
      "--skip-log-bin",
      "--innodb-buffer-pool-size=64M",
      "--innodb-flush-log-at-trx-commit=2",
      ...this.serverArgs,
    ];
    // A child of this process, which reaps it once killed; not waited for, so a worker can end.
    const log = openSync(join(this.#dir, "log"), "a");
    const child = spawn("mariadbd", args, { stdio: ["ignore", log, log], env: this.#env });
    closeSync(log);
    child.unref();
    this.#pid = child.pid;
    const ping = `mariadb-admin --no-defaults -h 127.0.0.1 -P ${this.port} -u root ping`;
    const script = `for i in $(seq ${START_TIMEOUT_MS / 100}); do
        ${ping} >/dev/null 2>&1 && exit 0
        kill -0 ${child.pid} 2>/dev/null || exit 2
        sleep 0.1
      done
      exit 1`;
    execFileSync("sh", ["-c", script], { stdio: "pipe" });
  }

  /** Kills the server with SIGKILL, as a crash would (every session is cut), and waits until it is gone. */
  stop(): void {
    const pid = this.#pid;
    if (pid === undefined) return;
    this.#pid = undefined;
    // Gone means no longer running: a zombie holds neither the port nor the data directory.
    const script = `kill -9 ${pid} 2>/dev/null
      for i in $(seq 300); do
        state=$(awk '/^State:/ { print $2 }' /proc/${pid}/status 2>/dev/null)
        [ -z "$state" ] || [ "$state" = Z ] && exit 0
        sleep 0.05
      done
      exit 1`;
    execFileSync("sh", ["-c", script], { stdio: "pipe" });
  }

  /** Kills the server if it runs and removes its directory. */
  dispose(): void {
    try {
      this.stop();
    } catch {
      // Left running only if it would not die: the directory goes anyway.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
