import type { EventStore } from "../event-store.js";
import { checkKind } from "../model/validate.js";
import type { Store } from "../store.js";
import { backendOf, checkProjection } from "./check-projection.js";
import { checkpointsOf } from "./checkpoints.js";
import type { BatchProjection, Projection, ProjectionStatus } from "./projection.js";

/**
 * Every projection of the store with its checkpoint and lag (or the one named
 * `name`), by name.
 *
 * @example
 * for (const p of await listProjections(store)) console.log(`${p.name}: ${p.checkpoint}, lag ${p.lag}`);
 */
export async function listProjections(store: Store, name?: string): Promise<ProjectionStatus[]> {
  const backend = backendOf(store);
  if (name !== undefined) checkKind(name, "name");
  // Tracked: close() lets it finish.
  return (store as EventStore).track(async () => {
    const checkpoints = await checkpointsOf(backend).list(name);
    const head = await backend.head();
    return checkpoints.map((c) => ({ ...c, head, lag: Math.max(0, head - c.checkpoint) }));
  });
}

/**
 * Starts a projection over: in one transaction, `projection.clear` empties
 * its read model and its checkpoint goes back to 0, so the next
 * {@link runProjection} applies everything again from the first event. One
 * already running notices at its next batch, when the store next commits: until
 * then its read model stays empty, so stop it, rebuild, and start it again
 * where that matters.
 *
 * @example
 * await rebuildProjection(store, titles);
 * await runProjection(store, titles, { signal });
 */
export async function rebuildProjection(store: Store, given: Projection | BatchProjection): Promise<void> {
  const backend = backendOf(store);
  const projection = checkProjection(given);
  await (store as EventStore).track(() =>
    checkpointsOf(backend).transact(projection.name, async (_current, sql) => {
      await projection.clear?.({ sql, replay: false });
      // Written even at 0: the new stamp tells a running runner that the read model was cleared.
      return 0;
    }),
  );
}

/**
 * Forgets a projection's checkpoint (its read model is the application's to drop).
 *
 * @example
 * await deleteProjection(store, "book-titles");
 */
export async function deleteProjection(store: Store, name: string): Promise<void> {
  const backend = backendOf(store);
  checkKind(name, "name");
  await (store as EventStore).track(() => checkpointsOf(backend).remove(name));
}
