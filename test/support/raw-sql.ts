import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";

/**
 * Runs `statements` on a store's database without the store (a SQLite file,
 * a PostgreSQL schema, a MySQL/MariaDB database, as its URL names it); the
 * rows of the last one, their values as the driver gives them.
 */
export async function onDatabase(url: string, statements: readonly string[]): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[] = [];
  if (url.startsWith("sqlite:")) {
    const db = new Database(url.slice("sqlite:".length));
    try {
      for (const s of statements) {
        const statement = db.prepare(s);
        if (statement.reader) rows = statement.all() as Record<string, unknown>[];
        else statement.run();
      }
    } finally {
      db.close();
    }
  } else if (/^postgres(ql)?:/.test(url)) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const s of statements) rows = (await client.query(s)).rows;
    } finally {
      await client.end();
    }
  } else {
    const connection = await mysql.createConnection({ uri: url.replace(/^mariadb:/, "mysql:") });
    try {
      for (const s of statements) rows = (await connection.query(s))[0] as Record<string, unknown>[];
    } finally {
      await connection.end();
    }
  }
  return rows;
}
