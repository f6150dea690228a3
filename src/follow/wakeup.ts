import { onCommit } from "./commit-hub.js";

/** The first polling interval after new commits, in milliseconds. */
export const MIN_POLL_MS = 10;
/** The longest polling interval of an idle follower, in milliseconds. */
export const MAX_POLL_MS = 500;

/** Where a follower learns of new commits. */
export interface WakeupSources {
  /** The in-process channel of the store's database (see `commit-hub.ts`). */
  readonly key: unknown;
  /** Notifications from other processes (PostgreSQL LISTEN), when the store has them. */
  readonly watch?: (onCommit: () => void, onError: (error: unknown) => void) => () => void;
  readonly signal?: AbortSignal | undefined;
  /** The longest polling interval, where not {@link MAX_POLL_MS}. */
  readonly maxIntervalMs?: number | undefined;
}

/**
 * Waits for the next chance of new commits: an in-process commit, a database
 * notification, an abort, or the polling interval. Polling always runs,
 * because notifications may never arrive (a transaction-mode pooler drops
 * LISTEN, other processes on SQLite have no way to notify). The interval
 * starts short and doubles while nothing happens.
 */
export class Wakeup {
  #woken = false;
  #wake: (() => void) | undefined;
  #failure: { error: unknown } | undefined;
  #interval = MIN_POLL_MS;
  readonly #maxInterval: number;
  readonly #release: (() => void)[] = [];

  constructor(sources: WakeupSources) {
    this.#maxInterval = Math.max(MIN_POLL_MS, sources.maxIntervalMs ?? MAX_POLL_MS);
    const wake = () => {
      this.#woken = true;
      this.#wake?.();
    };
    this.#release.push(onCommit(sources.key, wake));
    if (sources.watch) {
      this.#release.push(
        sources.watch(wake, (error) => {
          this.#failure ??= { error };
          wake();
        }),
      );
    }
    const { signal } = sources;
    if (signal) {
      signal.addEventListener("abort", wake);
      this.#release.push(() => signal.removeEventListener("abort", wake));
    }
  }

  /** Forgets earlier wake-ups: called right before the head is read, so none that follow is lost. */
  clear(): void {
    this.#woken = false;
  }

  /** Shortens the polling interval again: commits are coming. */
  active(): void {
    this.#interval = MIN_POLL_MS;
  }

  /** Throws the error of the notification channel, if it failed. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /** Resolves at the next wake-up or when the polling interval has passed. */
  async wait(): Promise<void> {
    if (this.#woken) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, this.#interval);
    });
    clearTimeout(timer);
    this.#wake = undefined;
    this.#interval = Math.min(this.#interval * 2, this.#maxInterval);
  }

  /** Releases the listeners and subscriptions. */
  dispose(): void {
    for (const release of this.#release.splice(0)) release();
    this.#wake?.();
  }
}
