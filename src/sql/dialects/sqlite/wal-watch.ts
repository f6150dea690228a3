import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

/**
 * Delays after a write to the WAL file at which its listeners are woken
 * again, in milliseconds from that write: a commit's last write comes before
 * its fsync and before the WAL index shows it to readers, and nothing writes
 * the file after that. A follower that found nothing at the first wake-up
 * finds the commit at one of these; past the last, its own polling does.
 */
export const TRAILING_WAKEUPS_MS: readonly number[] = [1, 2, 4, 8, 16];

/** A subscription: what it is called with, and where what it throws goes. */
interface Listener {
  readonly onWrite: () => void;
  readonly onError: (error: unknown) => void;
}

/** One watcher of a database's directory, shared by its listeners in this process. */
interface Watch {
  readonly watcher: FSWatcher;
  readonly listeners: Set<Listener>;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
}

const watches = new Map<string, Watch>();

function close(database: string, w: Watch): void {
  if (watches.get(database) === w) watches.delete(database);
  w.closed = true;
  clearTimeout(w.timer);
  w.watcher.close();
}

/** Calls each listener still subscribed; one that throws gets its error back, and the others are still called. */
function notify(w: Watch): void {
  for (const listener of [...w.listeners]) {
    if (!w.listeners.has(listener)) continue;
    try {
      listener.onWrite();
    } catch (error) {
      listener.onError(error);
    }
  }
}

/** Wakes the listeners now and at each of {@link TRAILING_WAKEUPS_MS}; a later write starts over. */
function written(w: Watch): void {
  if (w.closed) return;
  notify(w);
  clearTimeout(w.timer);
  let step = 0;
  const next = () => {
    const delay = (TRAILING_WAKEUPS_MS[step] ?? 0) - (TRAILING_WAKEUPS_MS[step - 1] ?? 0);
    w.timer = setTimeout(() => {
      notify(w);
      step++;
      if (step < TRAILING_WAKEUPS_MS.length && !w.closed) next();
      else w.timer = undefined;
    }, delay);
    w.timer.unref();
  };
  next();
}

/**
 * Calls `onWrite` whenever the WAL file of the SQLite database at `database`
 * (a resolved path) is written, by any process: what lets followers in other
 * processes learn of commits without waiting for their next poll. The
 * directory is watched (the WAL file comes and goes with the connections), one
 * watcher per database however many listen. Where the platform cannot watch,
 * or the watcher fails later, nothing is called and polling alone remains:
 * this only makes followers faster. What `onWrite` throws goes to `onError`.
 * Returns the unsubscribe function.
 */
export function watchWal(
  database: string,
  onWrite: () => void,
  onError: (error: unknown) => void = () => {},
): () => void {
  let w = watches.get(database);
  if (w === undefined) {
    const wal = `${basename(database)}-wal`;
    let created: Watch | undefined;
    let watcher: FSWatcher;
    try {
      watcher = watch(dirname(database), { persistent: false }, (_event, name) => {
        if (name === wal && created !== undefined) written(created);
      });
    } catch {
      return () => {};
    }
    created = { watcher, listeners: new Set(), timer: undefined, closed: false };
    const made = created;
    watcher.on("error", () => close(database, made));
    watches.set(database, made);
    w = made;
  }
  const listener: Listener = { onWrite, onError };
  const mine = w;
  mine.listeners.add(listener);
  return () => {
    mine.listeners.delete(listener);
    if (mine.listeners.size === 0) close(database, mine);
  };
}
