import type mysql from "mysql2";

/** Ends a mysql2 callback pool. */
export async function endPool(pool: mysql.Pool): Promise<void> {
  await new Promise<void>((resolve, reject) => pool.end((e) => (e ? reject(e) : resolve())));
}

/** Runs one statement on a mysql2 callback pool or connection and returns its rows. */
export function query<T>(connection: mysql.Connection | mysql.Pool, sql: string): Promise<T> {
  return new Promise((resolve, reject) => connection.query(sql, (e, rows) => (e ? reject(e) : resolve(rows as T))));
}
