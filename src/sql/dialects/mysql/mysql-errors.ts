import { ConnectionError, DatabaseError, WriteConflictError } from "../../../model/errors.js";
import { describeTarget, redact, type ServerTarget } from "../server-target.js";

// A deadlock, a lock wait timeout, a seqNo taken, a NOWAIT lock refused, MariaDB's "record changed" under snapshot isolation.
const WRITE_CONFLICT = new Set([
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_DUP_ENTRY",
  "ER_LOCK_NOWAIT",
  "ER_CHECKREAD",
]);
const CONNECTION = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "ER_CON_COUNT_ERROR",
  "ER_HOST_NOT_PRIVILEGED",
  "ER_SERVER_SHUTDOWN",
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when the error means the connection is gone or was never made. */
export function isMysqlConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  return (code !== undefined && CONNECTION.has(code)) || (error as { fatal?: unknown } | null)?.fatal === true;
}

/** A {@link ConnectionError} naming the server, never the password. */
export function mysqlConnectionError(error: unknown, target: ServerTarget): ConnectionError {
  const message = redact(error instanceof Error ? error.message : String(error), target);
  return new ConnectionError(`cannot connect to MySQL/MariaDB at ${describeTarget(target)}: ${message}`, {
    cause: error,
    dbCode: codeOf(error),
  });
}

/** Maps a mysql2 error to a typed error that keeps it as `cause`, with the errno's name (`ER_…`) as `dbCode`. */
export function mapMysqlError(error: unknown, target: ServerTarget, query?: string): Error {
  if (error instanceof DatabaseError) return error;
  if (isMysqlConnectionError(error)) return mysqlConnectionError(error, target);
  const dbCode = codeOf(error);
  const message = redact(error instanceof Error ? error.message : String(error), target);
  if (dbCode && WRITE_CONFLICT.has(dbCode)) {
    return new WriteConflictError(`MySQL refused the write: ${message}`, { cause: error, query, dbCode });
  }
  return new DatabaseError(`MySQL failed: ${message}`, { cause: error, query, dbCode });
}
