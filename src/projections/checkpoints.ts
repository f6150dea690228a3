import type { Backend } from "../backend.js";
import { WriteConflictError } from "../model/errors.js";
import { Mutex } from "../mutex.js";
import type { SqlSession } from "../sql/dialect.js";
import {
  type CheckpointRow,
  deleteCheckpointQuery,
  insertCheckpointQuery,
  lockCheckpointQuery,
  selectCheckpointsQuery,
  updateCheckpointQuery,
} from "../sql/queries/projections.js";
import { SqlBackend } from "../sql/sql-backend.js";
import type { ProjectionSql } from "./projection.js";

/** A checkpoint as kept. */
export interface Checkpoint {
  readonly name: string;
  readonly checkpoint: number;
  readonly updatedAt: Date;
}

/**
 * Runs `fn` with the projection's current checkpoint (undefined when it has
 * none), on SQL stores the transaction, and the row's stamp: its `updatedAt`
 * in milliseconds, which every write of the row raises, even one that leaves
 * the checkpoint where it was. It writes the checkpoint `fn` returns, if any,
 * in that same transaction.
 */
export type CheckpointWork = (
  current: number | undefined,
  sql: ProjectionSql | undefined,
  stamp: number | undefined,
) => Promise<number | undefined>;

/** Where a store keeps its projections' checkpoints. */
export interface Checkpoints {
  list(name?: string): Promise<Checkpoint[]>;
  /** Resolves with the stamp written, or undefined when `work` wrote no checkpoint. */
  transact(name: string, work: CheckpointWork): Promise<number | undefined>;
  remove(name: string): Promise<void>;
}

/**
 * Sorts checkpoints by name, compared by UTF-16 code unit: the same order on
 * every store, whatever the database's collation (MySQL's and PostgreSQL's
 * byte orders put "\u{1F600}" after "\uFF01", JavaScript before).
 */
function byName(rows: Checkpoint[]): Checkpoint[] {
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The stamp of a row written now, after one stamped `previous`: its time, and above `previous` whatever the clock says. */
function nextStamp(previous: number | undefined): number {
  return Math.max(Date.now(), (previous ?? 0) + 1);
}

function sqlHandle(dialect: ProjectionSql["dialect"], s: SqlSession): ProjectionSql {
  return {
    dialect,
    all: (sql, parameters = []) => s.all({ sql, parameters }),
    run: (sql, parameters = []) => s.run({ sql, parameters }),
  };
}

/** How often a transaction that inserted a new projection's row runs again when another inserted it first. */
const INSERT_ATTEMPTS = 3;

/** Checkpoints in the store's own database, moved in the transaction of the read model's writes. */
class SqlCheckpoints implements Checkpoints {
  constructor(private readonly backend: SqlBackend) {}

  #transaction(fn: (s: SqlSession) => Promise<void>): Promise<void> {
    const { driver } = this.backend;
    return driver.transaction ? driver.transaction(fn) : driver.write(fn, () => true);
  }

  async list(name?: string): Promise<Checkpoint[]> {
    const rows = await this.backend.driver.read((s) =>
      s.all<CheckpointRow>(selectCheckpointsQuery(this.backend.db, name)),
    );
    return byName(
      rows.map((r) => ({
        name: r.name,
        checkpoint: Number(r.checkpoint),
        updatedAt: new Date(Number(r.updated_at)),
      })),
    );
  }

  async transact(name: string, work: CheckpointWork): Promise<number | undefined> {
    const { db, dialect } = this.backend;
    for (let attempt = 1; ; attempt++) {
      let inserting = false;
      let written: number | undefined;
      try {
        await this.#transaction(async (s) => {
          written = undefined;
          await s.run(lockCheckpointQuery(db, name));
          const [row] = await s.all<CheckpointRow>(selectCheckpointsQuery(db, name));
          const current = row === undefined ? undefined : Number(row.checkpoint);
          const stamp = row === undefined ? undefined : Number(row.updated_at);
          const next = await work(current, sqlHandle(dialect.name, s), stamp);
          if (next === undefined) return;
          const now = nextStamp(stamp);
          inserting = current === undefined;
          await s.run(
            inserting ? insertCheckpointQuery(db, name, next, now) : updateCheckpointQuery(db, name, next, now),
          );
          written = now;
        });
        return written;
      } catch (error) {
        // A new projection has no row to lock: two runners may both insert it. The one that lost
        // rolled back everything `work` did; the next attempt finds the row and waits for its lock.
        if (!(error instanceof WriteConflictError) || !inserting || attempt >= INSERT_ATTEMPTS) throw error;
      }
    }
  }

  remove(name: string): Promise<void> {
    return this.#transaction((s) => s.run(deleteCheckpointQuery(this.backend.db, name)));
  }
}

/** Checkpoints of a memory store: they live and die with it. */
class MemoryCheckpoints implements Checkpoints {
  readonly #rows = new Map<string, Checkpoint>();
  readonly #lock = new Mutex();

  async list(name?: string): Promise<Checkpoint[]> {
    return byName([...this.#rows.values()].filter((r) => name === undefined || r.name === name));
  }

  transact(name: string, work: CheckpointWork): Promise<number | undefined> {
    return this.#lock.run(async () => {
      const row = this.#rows.get(name);
      const stamp = row?.updatedAt.getTime();
      const next = await work(row?.checkpoint, undefined, stamp);
      if (next === undefined) return undefined;
      const now = nextStamp(stamp);
      this.#rows.set(name, { name, checkpoint: next, updatedAt: new Date(now) });
      return now;
    });
  }

  remove(name: string): Promise<void> {
    // After the transactions already waiting (a runner's start left to finish on its own), as on SQL.
    return this.#lock.run(async () => {
      this.#rows.delete(name);
    });
  }
}

const memory = new WeakMap<Backend, MemoryCheckpoints>();

/** The checkpoints of a store's backend. */
export function checkpointsOf(backend: Backend): Checkpoints {
  if (backend instanceof SqlBackend) return new SqlCheckpoints(backend);
  let found = memory.get(backend);
  if (!found) {
    found = new MemoryCheckpoints();
    memory.set(backend, found);
  }
  return found;
}
