import { StoreClosedError } from "../model/errors.js";
import { RunningCalls } from "../running-calls.js";
import type { SqlDriver, SqlSession, Statement } from "./dialect.js";

/**
 * A driver that ends in order, whatever uses it (the rebase rules, streams,
 * follows, the keystore, projections): once {@link close} is called, a new
 * call rejects with `StoreClosedError`; the calls running finish; then the
 * connections close. Without it a call that asked the pool for a connection
 * just before the pool ended could wait for ever (pg-pool hands a connection
 * out on its next tick, and `end()` drops the request).
 */
export class ClosingDriver implements SqlDriver {
  readonly #inner: SqlDriver;
  readonly #running = new RunningCalls();
  #closing: Promise<void> | undefined;
  readonly database: string | undefined;
  readonly scrub?: (table: string) => Promise<boolean>;
  readonly subscribe?: SqlDriver["subscribe"];
  readonly transaction?: <T>(fn: (session: SqlSession) => Promise<T>) => Promise<T>;
  readonly call?: (statement: Statement, setup?: Statement) => Promise<unknown[]>;

  constructor(inner: SqlDriver) {
    this.#inner = inner;
    this.database = inner.database;
    const { scrub, subscribe, transaction, call } = inner;
    if (call) this.call = (statement, setup) => this.#run(() => call.call(inner, statement, setup));
    if (scrub) this.scrub = (table) => this.#run(() => scrub.call(inner, table));
    if (subscribe) this.subscribe = subscribe.bind(inner);
    if (transaction)
      this.transaction = <T>(fn: (session: SqlSession) => Promise<T>) =>
        this.#run(() => transaction.call(inner, fn) as Promise<T>);
  }

  #run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new StoreClosedError());
    return this.#running.run(call);
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#run(() => this.#inner.read(fn));
  }

  write<T>(fn: (session: SqlSession) => Promise<T>, commit: (result: T) => boolean): Promise<T> {
    return this.#run(() => this.#inner.write(fn, commit));
  }

  migrate(fn: (session: SqlSession) => Promise<void>): Promise<void> {
    return this.#run(() => this.#inner.migrate(fn));
  }

  /** Every caller gets the same promise: it settles once the connections are closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#running.settled();
      await this.#inner.close();
    })();
    return this.#closing;
  }
}
