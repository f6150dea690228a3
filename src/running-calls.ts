/**
 * The calls running now, so that a close can let them finish first: the
 * store's (`EventStore.track`) and its driver's (`ClosingDriver`).
 */
export class RunningCalls {
  readonly #calls = new Set<Promise<unknown>>();

  /** Runs `call` and keeps it until it settles. */
  run<T>(call: () => Promise<T>): Promise<T> {
    const running = call();
    this.#calls.add(running);
    const done = () => this.#calls.delete(running);
    running.then(done, done);
    return running;
  }

  /** Settles once every call running now has settled, whatever their outcome. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#calls);
  }
}
