import { createHash } from "node:crypto";
import type { Backend, RebaseRecord, WriteTx } from "./backend.js";
import { decodeEvent, type EncodedEvent, type EncodedIdentity, encodeEvent, storedEvent } from "./model/codec.js";
import { DatabaseError, ValidationError, WriteConflictError } from "./model/errors.js";
import type { NewEvent, RebaseResult, StoredAction, StoredEvent } from "./model/types.js";
import type { CheckedRebaseArgs } from "./model/validate.js";

/** How often a write refused for concurrency is tried again before `write-conflict` is returned. */
export const WRITE_RETRIES = 8;

function renumber(events: readonly EncodedEvent[], next: number): EncodedEvent[] {
  return events.map((e, i) => ({ ...e, seqNo: next + i }));
}

function decodeAll(events: readonly EncodedEvent[]): StoredEvent[] {
  return events.map(decodeEvent);
}

/**
 * Stores whose last rebase found its base behind the head (other writers
 * committed since its writer last looked): the next one checks for
 * conflicts without waiting for the head first.
 */
const behind = new WeakSet<Backend>();

/**
 * How many rebases that `Backend.appendsInOneCall` takes skip the append on
 * the head their writer saw after that append was refused: other writers are
 * committing, and the call is not refused for that. A lone writer keeps that
 * append (one writer, MariaDB: 1,040-1,141 against 831-1,008 rebases/s by the
 * call, in turns); under W4 it was refused four times in five, and trying it
 * again after 32 rebases made W4 7% slower than never (608-657 against
 * 666-694 committed/s, three pairs), after 256 no slower (585-639 against
 * 536-645).
 */
const PAUSE_AFTER_REFUSAL = 256;

/** Per store, the rebases still to skip the append on the head seen (see {@link PAUSE_AFTER_REFUSAL}). */
const pausedOnHead = new WeakMap<Backend, number>();

/** True when this rebase skips the append on the head seen, counting it. */
function pauseOnHead(backend: Backend, encoded: readonly EncodedEvent[], resolved: readonly number[]): boolean {
  const left = pausedOnHead.get(backend);
  if (left === undefined || !backend.appendsInOneCall?.(encoded, resolved)) return false;
  if (left <= 1) pausedOnHead.delete(backend);
  else pausedOnHead.set(backend, left - 1);
  return true;
}

/** The highest head each store was seen at in this process: its head is never lower. */
const headSeen = new WeakMap<Backend, number>();

function see(backend: Backend, head: number): void {
  if (!(head <= (headSeen.get(backend) ?? -1))) headSeen.set(backend, head);
}

/** A digest of an encoded history: equal for a retry of the same events. */
function digestOf(events: readonly EncodedEvent[]): string {
  const hash = createHash("sha256");
  for (const e of events) hash.update(JSON.stringify(e)).update("\n");
  return hash.digest("base64url");
}

/** The original result of a committed rebase with this id, or undefined when there is none. */
async function replayed(tx: WriteTx, id: string, digest: string): Promise<RebaseResult | undefined> {
  const record = await tx.findRebase(id);
  if (record === undefined) return undefined;
  if (record.digest !== digest) {
    throw new ValidationError(
      "id-reused",
      "options.id",
      `a rebase with id ${JSON.stringify(id)} committed another history`,
    );
  }
  const seqNos = Array.from({ length: record.count }, (_, i) => record.firstSeqNo + i);
  return { result: "ok", events: decodeAll(await tx.readEvents(seqNos)) };
}

/** The history's events numbered from `next`, as the result gives them. */
function numberedFrom(history: readonly NewEvent[], next: number, count: number): StoredEvent[] {
  const out = new Array<StoredEvent>(count);
  for (let i = 0; i < count; i++) out[i] = storedEvent(history[i] as NewEvent, next + i);
  return out;
}

/**
 * The rebase rules of SPEC section 2, once, for every store. Arguments are
 * validated by the caller; this numbers the history, checks each action
 * against the store in one round of queries, and appends all or nothing.
 * `history` is validation's private copy: the result's events reuse its values
 * (see {@link storedEvent}), and encoding its patches' JSON text.
 * `alongside` (internal: the keystore's key deletion) runs in the same
 * transaction right after the append; when it throws, nothing is written.
 */
export async function rebase(
  backend: Backend,
  base: number,
  { history, patches }: Pick<CheckedRebaseArgs, "history" | "patches">,
  resolved: readonly number[],
  dry: boolean,
  id?: string,
  alongside?: (tx: WriteTx) => Promise<void>,
): Promise<RebaseResult> {
  // Encoding (JSON, hashes) happens before the transaction, so the write lock is held briefly.
  const encoded = history.map((event, i) => encodeEvent(event, 0, patches[i]));
  const aggregates = new Map<string, EncodedIdentity>();
  for (const e of encoded) if (e.action) aggregates.set(e.action.aggregate.key, e.action.aggregate);
  const targets = [...aggregates.values()];
  const digest = id === undefined ? "" : digestOf(encoded);

  // A writer on the base after the head it last saw appends there at once (one round trip on the
  // server stores): a gap is impossible (the head never falls below what was seen), and if anyone
  // committed since, the seqNo `base` is taken and the append fails; then the paths below run.
  const seen = headSeen.get(backend);
  if (
    backend.refusesTakenSeqNos &&
    seen !== undefined &&
    base === seen + 1 &&
    !behind.has(backend) &&
    encoded.length > 0 &&
    !dry &&
    id === undefined &&
    alongside === undefined &&
    !pauseOnHead(backend, encoded, resolved)
  ) {
    try {
      await backend.write(
        (tx) => tx.append(renumber(encoded, base)),
        () => true,
      );
      see(backend, base + encoded.length - 1);
      return { result: "ok", events: numberedFrom(history, base, history.length) };
    } catch (error) {
      if (!(error instanceof WriteConflictError)) throw error;
      // Someone committed since: the writer is behind the head now.
      behind.add(backend);
      pausedOnHead.set(backend, PAUSE_AFTER_REFUSAL);
    }
  }
  if (backend.appendOnHead && encoded.length > 0 && !dry && id === undefined && alongside === undefined) {
    // A writer whose base may be behind (or whose append on the head it saw was refused): where
    // the backend can, the head and the checks travel with the rows in one round trip, and the
    // full rules below run only when a check fails.
    try {
      const next = await backend.appendOnHead(base, encoded, targets, resolved);
      if (typeof next === "number") {
        if (base < next) behind.add(backend);
        else behind.delete(backend);
        see(backend, next + encoded.length - 1);
        return { result: "ok", events: numberedFrom(history, next, history.length) };
      }
      const head = typeof next === "object" ? next.head : undefined;
      if (head !== undefined && base > head + 1) {
        // Read under the write lock: what the full rules would find.
        see(backend, head);
        return { result: "invalid-seq-no", nextSeqNo: head + 1 };
      }
      if (typeof next === "object" && next.theirs !== undefined && head !== undefined) {
        // The routine found the conflict under the lock: nothing more to read.
        const theirs = next.theirs;
        const found = theirs.action && firstConflict(encoded, new Map([[theirs.action.aggregate.key, theirs.seqNo]]));
        if (found) {
          see(backend, head);
          if (base <= head) behind.add(backend);
          return conflictOf(history, { ...found, next: head + 1 }, theirs);
        }
      }
      if (typeof next === "object" && targets.length > 0 && backend.firstConflictsUnlocked) {
        // Refused, most likely for a conflict: found without taking the write lock again, so
        // that other writers commit meanwhile (bound by the head the refusal read, where it
        // tells it). Without one (the base was past the head), the full rules below decide.
        const read = await backend.firstConflictsUnlocked(base, targets, resolved, head);
        if (read !== undefined) {
          see(backend, read.next - 1);
          if (base < read.next) behind.add(backend);
          const found = firstConflict(encoded, read.conflicts);
          if (found !== undefined) return conflictResult(backend, history, { ...found, next: read.next });
        }
      }
    } catch (error) {
      if (!(error instanceof WriteConflictError)) throw error;
    }
  }

  // Commit only what appended: conflicts, dry runs and replays of an id roll back.
  let appended = false;
  for (let attempt = 0; ; attempt++) {
    let outcome: RebaseResult | ConflictAt;
    try {
      outcome = await backend.write(
        async (tx): Promise<RebaseResult | ConflictAt> => {
          appended = false;
          if (id !== undefined) {
            const original = await replayed(tx, id, digest);
            if (original) return original;
          }
          // The conflict query needs no head: where the last rebase found its base behind, it goes
          // out with the head query (one round trip on drivers that pipeline or batch them).
          const [next, early] = await Promise.all([
            tx.nextSeqNo(),
            targets.length > 0 && behind.has(backend) ? tx.firstConflicts(base, targets, resolved) : undefined,
          ]);
          see(backend, next - 1);
          if (base > next) return { result: "invalid-seq-no", nextSeqNo: next };
          if (base < next) behind.add(backend);
          else behind.delete(backend);
          const numbered = renumber(encoded, next);
          // A conflict is a stored event with seqNo >= base: with base = next there is none to look for.
          const conflicts =
            targets.length > 0 && base < next ? await (early ?? tx.firstConflicts(base, targets, resolved)) : new Map();
          // Theirs is read after the rollback, without holding the write lock: stored events never change.
          const found = firstConflict(encoded, conflicts);
          if (found !== undefined) return { result: "conflict-at", ...found, next };
          if (!dry) {
            const record: RebaseRecord | undefined =
              id === undefined ? undefined : { id, digest, firstSeqNo: next, count: numbered.length };
            await tx.append(numbered, record);
            if (alongside) await alongside(tx);
            appended = true;
          }
          return { result: "ok", events: numberedFrom(history, next, history.length) };
        },
        () => appended,
      );
    } catch (error) {
      if (!(error instanceof WriteConflictError)) throw error;
      if (attempt >= WRITE_RETRIES) return { result: "write-conflict", error };
      // Jittered exponential backoff: writers that collided spread out.
      await new Promise((r) => setTimeout(r, Math.random() * 2 ** Math.min(attempt, 6)));
      continue;
    }
    // Seen once committed: a head recorded before a failed commit would let the fast path leave a gap.
    if (appended && outcome.result === "ok") see(backend, outcome.events[outcome.events.length - 1]?.seqNo ?? 0);
    if (outcome.result !== "conflict-at") return outcome;
    return conflictResult(backend, history, outcome);
  }
}

/** The first event of the history that meets a stored event in `conflicts` (keyed by aggregate): its index and theirs. */
function firstConflict(
  encoded: readonly EncodedEvent[],
  conflicts: ReadonlyMap<string, number>,
): { index: number; theirs: number } | undefined {
  if (conflicts.size === 0) return undefined;
  for (let index = 0; index < encoded.length; index++) {
    const action = (encoded[index] as EncodedEvent).action;
    const theirs = action && conflicts.get(action.aggregate.key);
    if (theirs !== undefined) return { index, theirs };
  }
  return undefined;
}

/** The conflict result of {@link ConflictAt}: the history numbered from `next` up to ours, and theirs as stored. */
async function conflictResult(
  backend: Backend,
  history: readonly NewEvent[],
  { index, next, theirs }: Omit<ConflictAt, "result">,
): Promise<RebaseResult> {
  const [stored] = await backend.readEvents([theirs]);
  if (stored === undefined) {
    // Stored events never change: only a database changed behind the store's back gets here.
    throw new DatabaseError(`the conflicting event ${theirs} is not in the store`, { cause: undefined });
  }
  return conflictOf(history, { index, next, theirs }, stored);
}

/** {@link conflictResult} with theirs read already. */
function conflictOf(
  history: readonly NewEvent[],
  { index, next }: Omit<ConflictAt, "result">,
  stored: EncodedEvent,
): RebaseResult {
  return {
    result: "conflict",
    events: numberedFrom(history, next, index),
    // `index` is an action's: firstConflict checks actions only.
    conflict: {
      ours: storedEvent(history[index] as NewEvent, next + index) as StoredAction,
      theirs: decodeEvent(stored),
    },
  };
}

/** A conflict found in the write transaction: the history's `index`-th event meets stored event `theirs`. */
interface ConflictAt {
  readonly result: "conflict-at";
  readonly index: number;
  readonly next: number;
  readonly theirs: number;
}
