/**
 * One error class per concern. Every error coherence-store throws is a
 * {@link CoherenceError} with a stable string `code` a program can switch on.
 */

/** The base class of every error coherence-store throws. */
export class CoherenceError extends Error {
  override name: string = "CoherenceError";
  /** A stable, machine-readable code. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Stable codes of {@link ValidationError}. */
export type ValidationCode =
  | "invalid-type"
  | "unknown-key"
  | "missing-key"
  | "empty"
  | "too-long"
  | "too-large"
  | "too-deep"
  | "too-many"
  | "not-distinct"
  | "invalid-string"
  | "invalid-number"
  | "invalid-date"
  | "invalid-url"
  | "invalid-name"
  | "reserved-name"
  | "forbidden-key"
  | "cycle"
  | "seq-no-given"
  | "id-reused"
  | "invalid-key"
  /** An option the store cannot work with (a pg pool whose results come in binary). */
  | "unsupported"
  /** Reading the value threw (a getter or a Proxy of the caller); the error is the `cause`. */
  | "unreadable";

/**
 * Input broke a rule of SPEC section 1 or 5. Thrown (or rejected) before
 * anything is written; `path` names the offending field.
 *
 * @example
 * try { await store.rebase(0, history) } catch (e) {
 *   if (e instanceof ValidationError) console.log(e.code, e.path) // "invalid-number" "base"
 * }
 */
export class ValidationError extends CoherenceError {
  override name = "ValidationError" as const;
  declare readonly code: ValidationCode;
  /** The field at fault, e.g. `history[2].action.aggregate[1]`. */
  readonly path: string;

  constructor(code: ValidationCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A call on a store after `close()`. */
export class StoreClosedError extends CoherenceError {
  override name = "StoreClosedError" as const;
  constructor() {
    super("store-closed", "the store is closed");
  }
}

/** The database failed; `cause` is the driver's error, `query` the statement that failed. */
export class DatabaseError extends CoherenceError {
  override name: string = "DatabaseError";
  /** The SQL of the failing statement, when there was one (never its parameters). */
  readonly query: string | undefined;
  /** The database's own error code (SQLSTATE, errno name, SQLite code), when it gave one. */
  readonly dbCode: string | undefined;

  constructor(message: string, options: { cause: unknown; query?: string; dbCode?: string; code?: string }) {
    super(options.code ?? "database", message, { cause: options.cause });
    this.query = options.query;
    this.dbCode = options.dbCode;
  }
}

/** The database could not be reached. The message names host, port and database, never the password. */
export class ConnectionError extends DatabaseError {
  override name = "ConnectionError" as const;
  constructor(message: string, options: { cause: unknown; dbCode?: string }) {
    super(message, { ...options, code: "connection" });
  }
}

/**
 * The database refused a write for concurrency (a seqNo taken, a deadlock, a
 * serialization failure, a busy file). `rebase` retries these and, when the
 * retries run out, returns it as `{ result: "write-conflict", error }`.
 */
export class WriteConflictError extends DatabaseError {
  override name = "WriteConflictError" as const;
  constructor(message: string, options: { cause: unknown; query?: string; dbCode?: string }) {
    super(message, { ...options, code: "write-conflict" });
  }
}
