/**
 * In-process wake-ups: a store that commits tells the followers of the same
 * database in this process at once, without waiting for their next poll.
 * Keys are channels (see `Backend.channel`) or, for a store with no shared
 * database (memory), the backend object itself.
 */
const listeners = new Map<unknown, Set<() => void>>();

/** Calls `onCommit` after every commit announced on `key` until the returned function is called. */
export function onCommit(key: unknown, onCommit: () => void): () => void {
  let set = listeners.get(key);
  if (!set) {
    set = new Set();
    listeners.set(key, set);
  }
  // A fresh closure per subscription, so one function subscribed twice is two subscriptions.
  const listener = () => onCommit();
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
  };
}

/** Announces a commit on `key` to this process's followers. */
export function signalCommit(key: unknown): void {
  const set = listeners.get(key);
  if (set) for (const listener of [...set]) listener();
}
