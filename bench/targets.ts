import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";

/** A fresh database for one bench run of one store: its URL, and how to drop it afterwards. */
export interface BenchTarget {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

const SERVERS = {
  postgres: process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432",
  mysql: process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306",
};

/** Creates a fresh database (a file, or a database on the server) for a bench run. */
export async function createTarget(name: string): Promise<BenchTarget> {
  const db = `coherence_bench_${process.pid}_${Date.now()}`;
  if (name === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "coherence-bench-"));
    return {
      name,
      url: `sqlite:${join(dir, "bench.db")}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (name === "postgres") {
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: `${SERVERS.postgres}/postgres` });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${db}`);
    return { name, url: `${SERVERS.postgres}/${db}`, drop: () => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
  }
  if (name === "mysql") {
    const admin = async (sql: string) => {
      const conn = await mysql.createConnection({ uri: `${SERVERS.mysql}/` });
      try {
        await conn.query(sql);
      } finally {
        await conn.end();
      }
    };
    await admin(`CREATE DATABASE ${db}`);
    return { name, url: `${SERVERS.mysql}/${db}`, drop: () => admin(`DROP DATABASE IF EXISTS ${db}`) };
  }
  throw new Error(`BENCH_STORES names an unknown store ${JSON.stringify(name)}: expected sqlite, postgres or mysql`);
}

export { rawClient } from "./raw/raw-client.js";
