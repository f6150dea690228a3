import { ValidationError } from "./model/errors.js";
import { describe } from "./model/validate-json.js";

/**
 * How a server store's URL and driver options are checked before the store
 * opens: the drivers drop what they do not read without a word, so a typo
 * would connect with settings other than the ones written.
 */

/** Throws unless every %-escape of a server URL decodes (the drivers would throw a bare URIError). */
function checkEscapes(rest: string): void {
  try {
    decodeURIComponent(rest);
  } catch {
    throw new ValidationError("invalid-url", "url", "a malformed %-escape (write a % itself as %25)");
  }
}

/**
 * Throws unless the port of a server URL, where it names one, is a number
 * from 0 to 65535 (mysql2 would throw a bare TypeError; pg would connect to
 * localhost:5432 instead). The host part follows the last `@` of the authority.
 */
function checkPort(rest: string): void {
  const { authority, host: at } = urlAuthority(rest);
  const host = authority.slice(at);
  const afterAddress = host.startsWith("[") ? host.slice(host.indexOf("]") + 1) : host;
  const colon = afterAddress.lastIndexOf(":");
  const port = colon < 0 ? "" : afterAddress.slice(colon + 1);
  if (port !== "") checkPortNumber(port);
}

/** Throws unless `port` is a number from 0 to 65535, in digits. */
function checkPortNumber(port: string): void {
  if (!(/^\d{1,5}$/.test(port) && Number(port) <= 65_535)) {
    throw new ValidationError("invalid-url", "url", `the port ${JSON.stringify(port)} is not a number from 0 to 65535`);
  }
}

/**
 * The authority of a server URL's `rest` (what follows `scheme://`, up to its
 * path, query or fragment) and where its host begins: after the last `@`, as
 * URL parsers read it (a password may hold an `@`); 0 without a user part.
 */
export function urlAuthority(rest: string): { authority: string; host: number } {
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  return { authority, host: authority.lastIndexOf("@") + 1 };
}

/**
 * The parameters of a `postgres://` URL that pg 8 reads: its connection
 * string parser copies every parameter into the client's settings, and the
 * client ignores the ones it does not know (`?sslmod=require` would connect
 * without TLS). `database` is the URL's path, not a parameter.
 */
const POSTGRES_PARAMETERS = [
  "host",
  "port",
  "user",
  "password",
  "ssl",
  "sslmode",
  "sslcert",
  "sslkey",
  "sslrootcert",
  "sslnegotiation",
  "uselibpqcompat",
  "options",
  "application_name",
  "fallback_application_name",
  "client_encoding",
  "replication",
  "statement_timeout",
  "lock_timeout",
  "idle_in_transaction_session_timeout",
  "query_timeout",
];

/**
 * The parameters of a `mysql://` URL that mysql2 3 reads (its connection and
 * pool settings, each value read as JSON where it parses); it only warns on
 * the console of any other, and ignores it. Host, port, user, password and
 * database come from the URL's own parts (mysql2 skips such parameters), and
 * settings that are code (`typeCast`, `stream`, `authPlugins`, …) cannot come from a URL.
 */
const MYSQL_PARAMETERS = [
  "password1",
  "password2",
  "password3",
  "passwordSha1",
  "charset",
  "charsetNumber",
  "compress",
  "connectAttributes",
  "connectTimeout",
  "dateStrings",
  "debug",
  "decimalNumbers",
  "bigNumberStrings",
  "supportBigNumbers",
  "enableKeepAlive",
  "keepAliveInitialDelay",
  "flags",
  "insecureAuth",
  "localAddress",
  "maxPreparedStatements",
  "multipleStatements",
  "namedPlaceholders",
  "nestTables",
  "rowsAsArray",
  "socketPath",
  "ssl",
  "stringifyObjects",
  "timezone",
  "trace",
  "disableEval",
  "enableCleartextPlugin",
  "jsonStrings",
  "connectionLimit",
  "maxIdle",
  "idleTimeout",
  "queueLimit",
  "resetOnRelease",
  "waitForConnections",
  "gracefulEnd",
];

/**
 * Throws unless every parameter of a server URL's query (`?name=value&…`,
 * before any `#`) is one its driver reads: the drivers ignore the others, so
 * a misspelled one would be dropped without a word.
 */
function checkParameters(rest: string, known: readonly string[], driver: string, key: "postgres" | "mysql"): void {
  for (const [name, text] of urlQuery(rest)) {
    if (!known.includes(name)) {
      throw new ValidationError(
        "invalid-url",
        "url",
        `the URL parameter ${JSON.stringify(name)} is not one ${driver} reads (it would be ignored): expected ${known.join(", ")}`,
      );
    }
    // pg connects to a `?port=` over the address's; an unreadable one left close() waiting for ever.
    if (key === "postgres" && name === "port") checkPortNumber(text);
    // mysql2 reads each value as JSON where it parses (pg takes no pool setting from a URL).
    const least = key === "mysql" ? POOL_SIZES.mysql[name] : undefined;
    if (least !== undefined) {
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {}
      checkPoolSize(value, least, "url", `the URL parameter ${name}`);
    }
  }
}

/**
 * The pool sizes of each driver, with the least each takes: with a negative
 * one (or a pg pool of 0, which pg reads as 10) a store's calls would wait for
 * a connection for ever. mysql2 reads a `connectionLimit` or `queueLimit` of 0
 * as no limit.
 */
const POOL_SIZES: Record<"postgres" | "mysql", Record<string, number | undefined>> = {
  // pg-pool reads `poolSize` where `max` is not given.
  postgres: { max: 1, min: 0, poolSize: 1 },
  mysql: { connectionLimit: 0, maxIdle: 0, queueLimit: 0 },
};

/** Throws unless a pool size is an integer of at least `least`. */
function checkPoolSize(value: unknown, least: number, path: string, what: string): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
    throw new ValidationError(
      path === "url" ? "invalid-url" : "invalid-number",
      path,
      `${what}: expected an integer of at least ${least}, got ${describe(value)}`,
    );
  }
}

/**
 * The settings of `new pg.Pool(...)` that pg-pool 3 and pg 8 read besides the
 * server's address. Given a URL, pg takes host, port, user, password and
 * database from it alone (an option naming one is dropped): the store passes
 * an option's password on where the URL has none.
 */
const POSTGRES_OPTIONS = [
  "max",
  "min",
  "idleTimeoutMillis",
  "connectionTimeoutMillis",
  "maxUses",
  "maxLifetimeSeconds",
  "allowExitOnIdle",
  "poolSize",
  "log",
  "Promise",
  "Client",
  "onConnect",
  "verify",
  "password",
  "ssl",
  "sslnegotiation",
  "enableChannelBinding",
  "keepAlive",
  "keepAliveInitialDelayMillis",
  "stream",
  "statement_timeout",
  "lock_timeout",
  "query_timeout",
  "idle_in_transaction_session_timeout",
  "application_name",
  "fallback_application_name",
  "options",
  "client_encoding",
  "types",
  "binary",
  "replication",
  "scramMaxIterations",
];

/**
 * The settings of `mysql2.createPool(...)` that mysql2 3 reads besides the
 * server's address: its URL parameters, a password, and the settings that
 * are code. (mysql2 would take an option's host, user or database over the
 * URL's, where pg ignores them: both stores refuse them alike.)
 */
const MYSQL_OPTIONS = [
  ...MYSQL_PARAMETERS,
  "password",
  "typeCast",
  "stream",
  "authPlugins",
  "authSwitchHandler",
  "infileStreamFactory",
  "Promise",
];

/** Settings that name the server: the URL gives them. */
const ADDRESS = ["host", "port", "user", "database", "connectionString", "uri"];

/**
 * Throws unless every setting in `options.postgres` or `options.mysql` is
 * one its driver reads and the store leaves to it: the server's address is
 * the URL's, and a password is given once, in the URL or in the options.
 */
function checkDriverOptions(
  options: object,
  key: "postgres" | "mysql",
  known: readonly string[],
  urlHasPassword: boolean,
): void {
  for (const name of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const path = `options.${key}.${name}`;
    if (ADDRESS.includes(name)) {
      throw new ValidationError(
        "forbidden-key",
        path,
        `the URL names the server: write host, port, user and database in it (${key}://user:password@host:port/database)`,
      );
    }
    if (name === "queryFormat" && key === "mysql") {
      throw new ValidationError("unsupported", path, "the store writes its statements' values itself");
    }
    if (name === "pipeline" && key === "postgres") {
      throw new ValidationError(
        "unsupported",
        path,
        "the store pipelines its own statements (pg's pipeline mode is not supported)",
      );
    }
    if (!known.includes(name)) {
      throw new ValidationError(
        "unknown-key",
        path,
        `unknown key ${JSON.stringify(name)}: ${key === "postgres" ? "pg" : "mysql2"} reads ${known.join(", ")}`,
      );
    }
    const least = POOL_SIZES[key][name];
    if (least !== undefined) checkPoolSize(value, least, path, "a pool size");
    if (PASSWORDS[key].includes(name)) {
      // pg also takes a function that returns the password (or a promise of it), called on each new connection.
      if (typeof value !== "string" && !(key === "postgres" && typeof value === "function")) {
        const expected = key === "postgres" ? "a string, or a function returning one" : "a string";
        throw new ValidationError("invalid-type", path, `expected ${expected}, got ${describe(value)}`);
      }
      if (urlHasPassword) {
        throw new ValidationError(
          "forbidden-key",
          path,
          "the URL has a password too: give it once, in the URL or here",
        );
      }
      const other = PASSWORDS[key].find((p) => p !== name && (options as Record<string, unknown>)[p] !== undefined);
      if (other !== undefined) {
        throw new ValidationError("forbidden-key", path, `${other} is given too: give the password once`);
      }
    }
  }
}

/**
 * The settings that give the (first) password: mysql2 reads `password1` where
 * `password` is not given (`password2` and `password3` are further factors).
 */
const PASSWORDS: Record<"postgres" | "mysql", readonly string[]> = {
  postgres: ["password"],
  mysql: ["password", "password1"],
};

/** True when a server URL's `rest` (what follows `scheme://`) carries a password, before its host or as a parameter. */
function hasPassword(rest: string, key: "postgres" | "mysql"): boolean {
  const { authority, host } = urlAuthority(rest);
  const user = authority.slice(0, Math.max(0, host - 1));
  const colon = user.indexOf(":");
  if (colon >= 0 && colon < user.length - 1) return true;
  const query = urlQuery(rest);
  return PASSWORDS[key].some((name) => (query.get(name) ?? "") !== "");
}

/** The parameters of a server URL's query (`?name=value&…`, before any `#`); none without one. */
function urlQuery(rest: string): URLSearchParams {
  const start = rest.indexOf("?");
  if (start < 0) return new URLSearchParams();
  const end = rest.indexOf("#", start);
  return new URLSearchParams(rest.slice(start + 1, end < 0 ? undefined : end));
}

/** A server URL's source of connections: the URL itself, or the application's pool behind a bare scheme. */
export function serverSource<O, P>(
  url: string,
  rest: string,
  options: O | undefined,
  key: "postgres" | "mysql",
  pool: P | undefined,
  isPool: (pool: object) => boolean,
): { url: string; options?: O } | { pool: P } {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) {
    throw new ValidationError("invalid-type", `options.${key}`, `expected an object, got ${describe(options)}`);
  }
  if (pool === undefined) {
    if (rest === "")
      throw new ValidationError("invalid-url", "url", "expected a server after the scheme, or options.pool");
    checkEscapes(rest);
    checkPort(rest);
    if (key === "postgres") checkParameters(rest, POSTGRES_PARAMETERS, "pg", key);
    else checkParameters(rest, MYSQL_PARAMETERS, "mysql2", key);
    if (options !== undefined) {
      checkDriverOptions(
        options as object,
        key,
        key === "postgres" ? POSTGRES_OPTIONS : MYSQL_OPTIONS,
        hasPassword(rest, key),
      );
    }
    return options === undefined ? { url } : { url, options };
  }
  if (typeof pool !== "object" || pool === null || !isPool(pool)) {
    throw new ValidationError("invalid-type", "options.pool", `expected a ${key} pool, got ${describe(pool)}`);
  }
  if (rest !== "" || options !== undefined) {
    throw new ValidationError(
      "invalid-url",
      "url",
      `with options.pool, give the bare scheme (no server) and no options.${key}`,
    );
  }
  return { pool };
}
