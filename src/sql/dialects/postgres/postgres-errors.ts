import { ConnectionError, DatabaseError, WriteConflictError } from "../../../model/errors.js";
import { describeTarget, redact, type ServerTarget } from "../server-target.js";

// Serialization failure, deadlock, unique violation (a seqNo taken), lock not available (lock_timeout).
const WRITE_CONFLICT = new Set(["40001", "40P01", "23505", "55P03"]);
// Node's socket errors, and the SQLSTATEs of a server that refuses or drops the session.
const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "EAI_AGAIN", "EPIPE"]);
const SESSION = new Set(["3D000", "57P01", "57P02", "57P03", "53300"]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when the error means the connection is gone or was never made. */
export function isPostgresConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined)
    return /connection terminated|not queryable|timeout exceeded when trying to connect/i.test(String(error));
  return NETWORK.has(code) || SESSION.has(code) || code.startsWith("08") || code.startsWith("28");
}

/** A {@link ConnectionError} naming the server, never the password. */
export function postgresConnectionError(error: unknown, target: ServerTarget): ConnectionError {
  const message = redact(error instanceof Error ? error.message : String(error), target);
  return new ConnectionError(`cannot connect to PostgreSQL at ${describeTarget(target)}: ${message}`, {
    cause: error,
    dbCode: codeOf(error),
  });
}

/** Maps a pg error to a typed error that keeps it as `cause`, with the SQLSTATE as `dbCode`. */
export function mapPostgresError(error: unknown, target: ServerTarget, query?: string): Error {
  if (error instanceof DatabaseError) return error;
  if (isPostgresConnectionError(error)) return postgresConnectionError(error, target);
  const dbCode = codeOf(error);
  const message = redact(error instanceof Error ? error.message : String(error), target);
  if (dbCode && WRITE_CONFLICT.has(dbCode)) {
    return new WriteConflictError(`PostgreSQL refused the write: ${message}`, { cause: error, query, dbCode });
  }
  return new DatabaseError(`PostgreSQL failed: ${message}`, { cause: error, query, dbCode });
}
