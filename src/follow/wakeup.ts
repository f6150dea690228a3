import { onCommit } from "./commit-hub.js";

/** The first polling interval after new commits, in milliseconds. */
export const MIN_POLL_MS = 10;
/** The longest polling interval of an idle follower, in milliseconds. */
export const MAX_POLL_MS = 500;

/** How long a follower polls alone after its notification channel failed, before it listens again (doubling). */
export const WATCH_RETRY_MS = 1000;
/** The longest wait before listening again. */
export const MAX_WATCH_RETRY_MS = 30_000;

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
 *
 * When the notification channel fails (its connection was cut: a server's
 * idle timeout, an administrator), the follower goes on polling and listens
 * again {@link WATCH_RETRY_MS} later, doubling while it keeps failing. The
 * channel only makes delivery faster, and a database that is really gone
 * fails the follower's own next read, which is what it reports.
 */
export class Wakeup {
  #woken = false;
  #wake: (() => void) | undefined;
  #interval = MIN_POLL_MS;
  readonly #maxInterval: number;
  readonly #release: (() => void)[] = [];
  readonly #watch: WakeupSources["watch"];
  readonly #onWake: () => void;
  /** Ends the current subscription of {@link #watch}; undefined while it is failed. */
  #unwatch: (() => void) | undefined;
  #watchRetryAt = 0;
  #watchRetryMs = WATCH_RETRY_MS;
  #disposed = false;

  constructor(sources: WakeupSources) {
    this.#maxInterval = Math.max(MIN_POLL_MS, sources.maxIntervalMs ?? MAX_POLL_MS);
    const wake = () => {
      this.#woken = true;
      this.#wake?.();
    };
    this.#onWake = wake;
    this.#release.push(onCommit(sources.key, wake));
    this.#watch = sources.watch;
    this.#listen();
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

  /** Subscribes to the notification channel, if the store has one. */
  #listen(): void {
    if (!this.#watch || this.#disposed) return;
    let failed = false;
    const unwatch = this.#watch(this.#onWake, () => {
      if (failed) return;
      failed = true;
      this.#unwatch?.();
      this.#unwatch = undefined;
      this.#watchRetryAt = performance.now() + this.#watchRetryMs;
      this.#watchRetryMs = Math.min(this.#watchRetryMs * 2, MAX_WATCH_RETRY_MS);
      // A commit may have gone unheard: read the head now.
      this.#onWake();
    });
    if (failed) unwatch();
    else this.#unwatch = unwatch;
  }

  /** Resolves at the next wake-up or when the polling interval has passed. */
  async wait(): Promise<void> {
    if (!this.#unwatch && performance.now() >= this.#watchRetryAt) this.#listen();
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
    this.#disposed = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
    for (const release of this.#release.splice(0)) release();
    this.#wake?.();
  }
}
