import mysql from "mysql2/promise";
import pg from "pg";

/** The admin URLs of the database servers the tests create their databases on. */
export const SERVER_URLS = {
  postgres: process.env.COHERENCE_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  mysql: process.env.COHERENCE_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test",
} as const;

/** The store kinds that need a server. */
export type ServerStore = keyof typeof SERVER_URLS;

/** A URL as a message may show it: without its password. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/** `url` with another database (the path), keeping user, host and parameters. */
export function withDatabase(url: string, database: string, params: Record<string, string> = {}): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** Runs statements on a server's admin connection (or on `url`), one at a time. */
export async function admin(
  store: ServerStore,
  statements: readonly string[],
  url = SERVER_URLS[store],
): Promise<void> {
  if (store === "postgres") {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      for (const s of statements) await client.query(s);
    } finally {
      await client.end();
    }
  } else {
    const connection = await mysql.createConnection({ uri: url.replace(/^mariadb:/, "mysql:"), connectTimeout: 3000 });
    try {
      for (const s of statements) await connection.query(s);
    } finally {
      await connection.end();
    }
  }
}

/** A name no other test run uses. */
export function freshName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
