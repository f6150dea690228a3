import type { Backend } from "../backend.js";
import { encodeIdentity } from "../model/codec.js";
import type { StoredAction } from "../model/types.js";
import type { FollowOptions } from "./follow-options.js";
import { readRange } from "./read-range.js";
import { Wakeup } from "./wakeup.js";

/** What a follower goes through: actions, the end of each batch of commits, and each time it has caught up. */
export type FollowStep =
  | { readonly type: "action"; readonly event: StoredAction; readonly replay: boolean }
  /** Everything committed up to `head` has been delivered (actions and replays). */
  | { readonly type: "batch"; readonly head: number }
  /** Nothing more was committed after the last batch: the store's head is `head`. */
  | { readonly type: "caught-up"; readonly head: number };

export const ABORTED = Symbol("aborted");
const noop = () => {};

/**
 * `work`, unless `signal` aborts first: then {@link ABORTED} at once, without
 * waiting for a read that may hang as long as its database is unreachable.
 * What `work` does later, failing included, is nobody's: the follower ended.
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    work.catch(noop);
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      work.catch(noop);
      resolve(ABORTED);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) resolve(ABORTED);
        else reject(error);
      },
    );
  });
}

/**
 * What a callback of the caller's returned (`onCaughtUp`), awaited when it is
 * a promise, unless `signal` aborts first ({@link ABORTED}): a callback that
 * never settles does not keep a follower from ending.
 */
export async function settled(result: unknown, signal: AbortSignal | undefined): Promise<unknown> {
  if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") return result;
  return unlessAborted(Promise.resolve(result), signal);
}

/** The in-process wake-up channel of a backend: its database's, or its own. */
export function channelOf(backend: Backend): unknown {
  return backend.channel ?? backend;
}

/**
 * The follower's loop, over validated options: stream the range after what
 * was delivered up to the head read first, then wait for a wake-up. Reading
 * up to the head never skips an event because seqNos are gapless in commit
 * order on every store (SPEC section 2, rule 5): when `head` is committed,
 * so is everything below it.
 */
export async function* followSteps(
  backend: Backend,
  options: FollowOptions,
  pageSize: number,
  checkOpen: () => void,
): AsyncGenerator<FollowStep> {
  const { signal } = options;
  if (signal?.aborted) return;
  const filter = { aggregates: options.aggregates?.map(encodeIdentity), kinds: options.kinds };
  // Subscribed before the first head is read, so no commit after it goes unnoticed.
  const wakeup = new Wakeup({
    key: channelOf(backend),
    watch: backend.watch?.bind(backend),
    signal,
    maxIntervalMs: backend.pollCeilingMs,
  });
  try {
    let delivered = Math.max(options.offset ?? 0, 1) - 1;
    let reported: number | undefined;
    for (;;) {
      wakeup.clear();
      checkOpen();
      // The head and whether an effect came since the last batch, in one read.
      const read = await unlessAborted(backend.headAndEffects(delivered + 1), signal);
      if (read === ABORTED) return;
      const { head } = read;
      if (head > delivered) {
        const range = readRange(backend, filter, delivered + 1, read, pageSize, checkOpen);
        let reading = false;
        try {
          for (;;) {
            reading = true;
            const next = await unlessAborted(range.next(), signal);
            if (next === ABORTED) return;
            reading = false;
            if (next.done) break;
            yield { type: "action", ...next.value };
            if (signal?.aborted) return;
          }
        } finally {
          // A page read still running when the signal aborted: the range ends once it has answered.
          if (reading) range.return(undefined).catch(noop);
          else await range.return(undefined);
        }
        delivered = head;
        wakeup.active();
        yield { type: "batch", head };
        continue;
      }
      if (reported !== head) {
        reported = head;
        yield { type: "caught-up", head };
        if (signal?.aborted) return;
      }
      await wakeup.wait();
      if (signal?.aborted) return;
    }
  } finally {
    wakeup.dispose();
  }
}
