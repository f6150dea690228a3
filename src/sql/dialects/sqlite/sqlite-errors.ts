import { ConnectionError, DatabaseError, WriteConflictError } from "../../../model/errors.js";

const CONCURRENCY = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY", "SQLITE_LOCKED"]);
const SEQ_NO_TAKEN = new Set(["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"]);

/** Maps a better-sqlite3 error to a typed error that keeps it as `cause`. */
export function mapSqliteError(error: unknown, query?: string): Error {
  if (error instanceof DatabaseError) return error;
  const code = (error as { code?: unknown }).code;
  const dbCode = typeof code === "string" ? code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (dbCode && (CONCURRENCY.has(dbCode) || SEQ_NO_TAKEN.has(dbCode))) {
    return new WriteConflictError(`SQLite refused the write: ${message}`, { cause: error, query, dbCode });
  }
  if (dbCode === "SQLITE_CANTOPEN" || dbCode === "SQLITE_NOTADB") {
    return new ConnectionError(`cannot open the SQLite database: ${message}`, { cause: error, dbCode });
  }
  return new DatabaseError(`SQLite failed: ${message}`, { cause: error, query, dbCode });
}
