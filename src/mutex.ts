/** A first-come, first-served async lock: one holder at a time within this process. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier holder has finished. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => {
      release = r;
    });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * A readers-writer lock within this process: shared holders run together, an
 * exclusive holder runs alone. A waiting exclusive holder goes before shared
 * holders that come after it, so it is not kept waiting for ever.
 */
export class SharedLock {
  #shared = 0;
  /** Settles when the exclusive holder (running, or waiting for shared holders to finish) is done. */
  #exclusive: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /** Runs `fn` beside other shared holders, once no exclusive holder runs or waits. */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive;
    this.#shared++;
    try {
      return await fn();
    } finally {
      this.#shared--;
      if (this.#shared === 0) this.#drained?.();
    }
  }

  /** Runs `fn` alone: after the shared holders running now, before those that come later. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive;
    let release!: () => void;
    this.#exclusive = new Promise<void>((r) => {
      release = r;
    });
    try {
      if (this.#shared > 0) {
        await new Promise<void>((r) => {
          this.#drained = r;
        });
        this.#drained = undefined;
      }
      return await fn();
    } finally {
      this.#exclusive = undefined;
      release();
    }
  }
}
