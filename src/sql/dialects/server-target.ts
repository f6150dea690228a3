/** Where a server store connects, for error messages (the password only to keep it out of them). */
export interface ServerTarget {
  readonly host: string;
  readonly port: number | string;
  readonly database: string;
  readonly password?: string | undefined;
}

/**
 * A pooled connection idle this long may have lost its server meanwhile (a
 * restart the pool has not noticed yet): a write on it takes one round trip
 * for its opening statements, without COMMIT, so that a dead connection is
 * found while nothing can have been committed, and the write runs again on
 * another one. Connections in steady use skip that round trip.
 */
export const PROBE_AFTER_IDLE_MS = 100;

/** A statement, or a statement of a simple query of several, that commits. */
export const COMMIT = /(^|;)\s*commit\b/i;

/**
 * When each pooled connection that served a call went back to the pool: only
 * these can be stale when handed out again, and those back for
 * {@link PROBE_AFTER_IDLE_MS} or more are probed before a write commits.
 */
export class ReleaseTimes<C extends object> {
  readonly #released = new WeakMap<C, number>();

  /** `reused`: `connection` served a call before; `idle`: it has been back in the pool long enough to be probed. */
  checkedOut(connection: C): { reused: boolean; idle: boolean } {
    const released = this.#released.get(connection);
    if (released === undefined) return { reused: false, idle: false };
    return { reused: true, idle: performance.now() - released >= PROBE_AFTER_IDLE_MS };
  }

  /** `connection` goes back to the pool now, in working order. */
  released(connection: C): void {
    this.#released.set(connection, performance.now());
  }
}

/** `host:port/database`, as a message names a server. */
export function describeTarget(target: ServerTarget): string {
  return `${target.host}:${target.port}/${target.database}`;
}

/** A driver's message with the password, should it ever quote it, masked. */
export function redact(message: string, target: ServerTarget): string {
  const { password } = target;
  return password ? message.split(password).join("***") : message;
}

type Settings = { host?: unknown; port?: unknown; database?: unknown; user?: unknown; password?: unknown };

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined;
}

/**
 * The target of a URL and the options that override it (host, port, database,
 * user, password), as mysql2 reads them: options first, then the URL's own
 * parts (it ignores a URL's `?host=` and `?port=`).
 */
export function serverTarget(
  url: string | undefined,
  settings: Settings | undefined,
  defaultPort: number,
): ServerTarget {
  let parsed: URL | undefined;
  try {
    parsed = url ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  const o = settings ?? {};
  const fromUrl = (part: string | undefined) => (part ? decodeURIComponent(part) : undefined);
  return {
    host: text(o.host) ?? fromUrl(parsed?.hostname) ?? "localhost",
    port: text(o.port) ?? fromUrl(parsed?.port) ?? defaultPort,
    database:
      text(o.database) ??
      fromUrl(parsed?.pathname.slice(1)) ??
      text(o.user) ??
      fromUrl(parsed?.username) ??
      "(default)",
    password: text(o.password) ?? fromUrl(parsed?.password),
  };
}
