import type { FollowOptions, Store, StoredAction } from "../../index.js";

/**
 * `coherence stream --follow`: the stream, then every new commit, until
 * SIGINT or SIGTERM, which end it like the end of a stream (exit 0).
 */
export function followUntilSignal(store: Store, options: FollowOptions): AsyncIterable<StoredAction> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  return {
    async *[Symbol.asyncIterator]() {
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        yield* store.follow({ ...options, signal: controller.signal });
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    },
  };
}
