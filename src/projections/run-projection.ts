import { type EventStore, PAGE_SIZE } from "../event-store.js";
import { ABORTED, followSteps, settled, unlessAborted } from "../follow/follow-steps.js";
import { encodeIdentity } from "../model/codec.js";
import type { StoredAction } from "../model/types.js";
import type { Store } from "../store.js";
import { backendOf, type CheckedProjection, checkProjection, checkRunOptions } from "./check-projection.js";
import { type Checkpoints, checkpointsOf } from "./checkpoints.js";
import type { BatchProjection, Projection, ProjectionContext, RunProjectionOptions } from "./projection.js";

/** Another runner (or a rebuild) moved the checkpoint: start over from where it is now. */
class CheckpointMoved extends Error {}

interface Pending {
  readonly event: StoredAction;
  readonly replay: boolean;
}

/** Where a runner left its projection's checkpoint row: the checkpoint and the row's stamp. */
interface Position {
  readonly checkpoint: number;
  readonly stamp: number | undefined;
}

/**
 * Applies `pending` in one transaction that moves the checkpoint from
 * `from` to `to`, unless the row is no longer as `from` left it: another
 * runner wrote it meanwhile, if only a batch of a replay that leaves the
 * checkpoint where it was. `reset` holds the aggregates already reset in
 * this batch of commits; it grows only if the transaction commits. Resolves
 * with the position written.
 */
async function commitBatch(
  checkpoints: Checkpoints,
  projection: CheckedProjection,
  pending: readonly Pending[],
  from: Position,
  to: number,
  reset: Set<string>,
): Promise<Position> {
  const resetNow = new Set<string>();
  const stamp = await checkpoints.transact(projection.name, async (current, sql, stamp) => {
    // A transaction run again (see `Checkpoints.transact`) rolled back the resets of the one before.
    resetNow.clear();
    if ((current ?? 0) !== from.checkpoint || stamp !== from.stamp) throw new CheckpointMoved();
    // With applyBatch, the actions not yet applied, all replays or all not, and the aggregates of
    // those that are replays.
    let run: StoredAction[] = [];
    let runReplays = false;
    const replayed = new Set<string>();
    const applyRun = async () => {
      if (run.length === 0) return;
      const events = run;
      run = [];
      replayed.clear();
      await projection.applyBatch?.(events, { sql, replay: runReplays });
    };
    for (const { event, replay } of pending) {
      const ctx: ProjectionContext = { sql, replay };
      if (replay !== runReplays) {
        await applyRun();
        runReplays = replay;
      }
      if (replay) {
        const key = encodeIdentity(event.action.aggregate).key;
        if (!reset.has(key) && !resetNow.has(key)) {
          resetNow.add(key);
          // An action of the aggregate waiting to be applied is applied before the reset forgets it
          // (the replays of other aggregates wait: a key's expiry may replay many of them at once).
          if (replayed.has(key)) await applyRun();
          await projection.reset?.(event.action.aggregate, ctx);
        }
        if (!projection.apply) replayed.add(key);
      }
      if (projection.apply) await projection.apply(event, ctx);
      else run.push(event);
    }
    await applyRun();
    // Written even where the checkpoint stays (a batch of a replay): the new stamp tells other runners.
    return to;
  });
  for (const key of resetNow) reset.add(key);
  return { checkpoint: to, stamp };
}

/**
 * Keeps a projection's read model up to date: follows the store from the
 * projection's checkpoint, applies each action (and, when an effect replays an
 * aggregate, `reset` then that aggregate's actions again), and moves the
 * checkpoint in the same transaction as what `apply` ran on `ctx.sql`.
 * Resolves when `options.signal` aborts; rejects, with nothing of the failed
 * batch kept, when `apply` or the database fails. Started again, it goes on
 * from the checkpoint. Should another runner or a rebuild move the checkpoint,
 * it goes on from there instead, so no action is applied twice.
 *
 * @example
 * const controller = new AbortController();
 * const running = runProjection(store, titles, { signal: controller.signal, onCaughtUp: (h) => console.log("at", h) });
 * // … later
 * controller.abort();
 * await running;
 */
export async function runProjection(
  store: Store,
  given: Projection | BatchProjection,
  options?: RunProjectionOptions,
): Promise<void> {
  const backend = backendOf(store);
  const projection = checkProjection(given);
  const { signal, onCaughtUp, batchSize = 100 } = checkRunOptions(options);
  const checkpoints = checkpointsOf(backend);
  // A store closed under a running projection ends it with StoreClosedError, as it ends a follow.
  const checkOpen = () => (store as EventStore).assertOpen();
  for (;;) {
    if (signal?.aborted) return;
    // A new projection's row exists from its first run, so listings show it at 0. The start runs no code
    // of the projection's: when the signal aborts while it waits (behind another runner's batch, or on a
    // server that stopped answering), it is left to finish on its own, as a follow leaves its reads.
    const opened = checkpoints
      .transact(projection.name, async (current) => (current === undefined ? 0 : undefined))
      .then(() => checkpoints.list(projection.name));
    const rows = await unlessAborted(opened, signal);
    if (rows === ABORTED) return;
    const [row] = rows;
    let position: Position = { checkpoint: row?.checkpoint ?? 0, stamp: row?.updatedAt.getTime() };
    const followOptions = {
      offset: position.checkpoint + 1,
      aggregates: projection.aggregates,
      kinds: projection.kinds,
      signal,
    };
    let pending: Pending[] = [];
    let reset = new Set<string>();
    // A batch that has begun is finished, even when the signal aborts meanwhile: its `apply` calls are the
    // runner's, and so are its failure and its checkpoint when the runner ends.
    const flush = async (to: number) => {
      if (pending.length === 0 && to === position.checkpoint) return;
      position = await commitBatch(checkpoints, projection, pending, position, to, reset);
      pending = [];
    };
    try {
      for await (const step of followSteps(backend, followOptions, PAGE_SIZE, checkOpen)) {
        if (step.type === "action") {
          pending.push(step);
          if (pending.length >= batchSize) await flush(step.replay ? position.checkpoint : step.event.seqNo);
        } else if (step.type === "batch") {
          await flush(step.head);
          reset = new Set();
        } else if ((await settled(onCaughtUp?.(step.head), signal)) === ABORTED) {
          return;
        }
      }
      return;
    } catch (error) {
      if (!(error instanceof CheckpointMoved)) throw error;
    }
  }
}
