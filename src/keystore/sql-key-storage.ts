import type { WriteTx } from "../backend.js";
import { EncodedIdentity } from "../model/codec.js";
import { WriteConflictError } from "../model/errors.js";
import type { SqlSession } from "../sql/dialect.js";
import {
  anyLiveKeyQuery,
  dueKeysQuery,
  insertKeyQuery,
  type KeyRow,
  listKeysQuery,
  renewKeyQuery,
  rewrapKeyQuery,
  selectKeyQuery,
  setExpiryQuery,
  shredKeyQuery,
} from "../sql/queries/keys.js";
import { incrementMetaQuery, insertMetaQuery, META, metaValuesQuery, raiseMetaQuery } from "../sql/queries/meta.js";
import type { SqlBackend, SqlWriteTx } from "../sql/sql-backend.js";
import { derivedName } from "../sql/tables.js";
import {
  isLive,
  isShreddable,
  type KeyMaker,
  type KeyStorage,
  type LiveKey,
  type StoredKey,
  sortedBy,
} from "./key-storage.js";
import { triggerDigest } from "./trigger-digest.js";

/** The meta rows that say whether a scrub is pending. */
const KEY_ROWS = [META.keyWrites, META.keysScrubbed] as const;

/** How often key creation is tried again when another process created or locked at the same time. */
const RETRIES = 8;

/** Binary columns (MySQL) come back as bytes. */
function text(value: unknown): string {
  return typeof value === "string" ? value : Buffer.from(value as Uint8Array).toString("utf8");
}

function nullableNumber(value: unknown): number | null {
  return value == null ? null : Number(value);
}

function keyFromRow(row: KeyRow): StoredKey {
  return {
    trigger: new EncodedIdentity(text(row.trigger_kind), text(row.trigger_id)),
    generation: Number(row.generation),
    wrapped: row.wrapped == null ? null : text(row.wrapped),
    createdAt: Number(row.created_at),
    expiresAt: nullableNumber(row.expires_at),
    expiredAt: nullableNumber(row.expired_at),
  };
}

function rowOf(key: StoredKey): KeyRow {
  return {
    trigger_digest: triggerDigest(key.trigger),
    trigger_kind: key.trigger.kind,
    trigger_id: key.trigger.id,
    generation: key.generation,
    wrapped: key.wrapped,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    expired_at: key.expiredAt,
  };
}

/**
 * The data keys of a SQL store, in a relation of the same database named
 * after the event relation (`events_keys`). Writes take the store's write lock,
 * so two processes creating one trigger's key end with one key.
 */
export class SqlKeyStorage implements KeyStorage {
  constructor(private readonly backend: SqlBackend) {}

  async #find(s: SqlSession, trigger: EncodedIdentity): Promise<StoredKey | undefined> {
    const rows = await s.all<KeyRow>(selectKeyQuery(this.backend.db, triggerDigest(trigger)));
    // The digest is the primary key; comparing the trigger too costs nothing.
    return rows.map(keyFromRow).find((k) => k.trigger.key === trigger.key);
  }

  async #secureDelete(s: SqlSession): Promise<void> {
    for (const sql of this.backend.dialect.secureDeleteStatements) await s.run({ sql, parameters: [] });
  }

  /** True once this process has seen (or made) the meta rows {@link #markKeyWrite} counts in. */
  #metaRowsMade = false;

  /** Inside a write that shreds or re-wraps keys: one more commit whose old key material a scrub must remove. */
  async #markKeyWrite(s: SqlSession): Promise<void> {
    const { db } = this.backend;
    if (!this.#metaRowsMade) {
      // Under the writers' lock: two first expiries at once do not both insert.
      const found = new Set((await s.all<{ name: string }>(metaValuesQuery(db, KEY_ROWS))).map((r) => text(r.name)));
      for (const name of KEY_ROWS) if (!found.has(name)) await s.run(insertMetaQuery(db, name, 0));
      // Known for good only once seen committed: rows inserted here go if this transaction rolls back.
      this.#metaRowsMade = found.size === KEY_ROWS.length;
    }
    await s.run(incrementMetaQuery(db, META.keyWrites));
  }

  /** How many key writes there were, and through which count a scrub finished. */
  async #scrubCounts(): Promise<{ writes: number; scrubbed: number }> {
    const rows = await this.backend.driver.read((s) =>
      s.all<{ name: unknown; value: unknown }>(metaValuesQuery(this.backend.db, KEY_ROWS)),
    );
    const value = (name: string) => Number(rows.find((r) => text(r.name) === name)?.value ?? 0);
    return { writes: value(META.keyWrites), scrubbed: value(META.keysScrubbed) };
  }

  get(trigger: EncodedIdentity): Promise<StoredKey | undefined> {
    return this.backend.driver.read((s) => this.#find(s, trigger));
  }

  async liveKey(trigger: EncodedIdentity, make: KeyMaker, opens: (other: LiveKey) => void): Promise<LiveKey> {
    const known = await this.get(trigger);
    if (isLive(known)) return known;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.backend.driver.write(
          async (s) => {
            const current = await this.#find(s, trigger);
            if (isLive(current)) return current;
            const [other] = (await s.all<KeyRow>(anyLiveKeyQuery(this.backend.db))).map(keyFromRow);
            if (isLive(other)) opens(other);
            const generation = (current?.generation ?? 0) + 1;
            const key: LiveKey = { trigger, generation, expiredAt: null, ...make(generation) };
            const row = rowOf(key);
            await s.run(current ? renewKeyQuery(this.backend.db, row) : insertKeyQuery(this.backend.db, row));
            return key;
          },
          () => true,
        );
      } catch (error) {
        // A unique violation or a serialization failure: another process made the key; read it next round.
        if (!(error instanceof WriteConflictError) || attempt >= RETRIES) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  async list(): Promise<StoredKey[]> {
    const rows = await this.backend.driver.read((s) => s.all<KeyRow>(listKeysQuery(this.backend.db)));
    return sortedBy(rows.map(keyFromRow), (k) => k.createdAt);
  }

  async due(now: number): Promise<EncodedIdentity[]> {
    const rows = await this.backend.driver.read((s) => s.all<KeyRow>(dueKeysQuery(this.backend.db, now)));
    return sortedBy(rows.map(keyFromRow), (k) => k.expiresAt as number).map((k) => k.trigger);
  }

  setExpiry(trigger: EncodedIdentity, expiresAt: number | null): Promise<boolean> {
    return this.backend.driver.write(
      async (s) => {
        if (!isLive(await this.#find(s, trigger))) return false;
        await s.run(setExpiryQuery(this.backend.db, triggerDigest(trigger), expiresAt));
        return true;
      },
      (found) => found,
    );
  }

  async shredIn(tx: WriteTx, trigger: EncodedIdentity, now: number, dueBy?: number): Promise<boolean> {
    const s = (tx as SqlWriteTx).session;
    // Read under the write lock that setExpiry and liveKey take too: what is checked is what is shredded.
    if (!isShreddable(await this.#find(s, trigger), dueBy)) return false;
    await this.#secureDelete(s);
    await s.run(shredKeyQuery(this.backend.db, triggerDigest(trigger), now));
    await this.#markKeyWrite(s);
    return true;
  }

  async scrub(): Promise<boolean> {
    const { db, driver, tables } = this.backend;
    if (!driver.scrub) return true;
    // Read before: a commit after this read may not be covered by this scrub, and stays counted as pending.
    const { writes, scrubbed } = await this.#scrubCounts();
    try {
      if (!(await driver.scrub(derivedName(tables, "keys")))) return false;
    } catch (error) {
      // The expiry has committed: a rewrite refused for a lock (a lock timeout, a busy file) did not happen yet.
      if (error instanceof WriteConflictError) return false;
      throw error;
    }
    if (writes > scrubbed) {
      // Raised, never lowered: a slower scrub that read an older count leaves it. Outside the writers'
      // lock where the database allows; a refusal only costs a scrub again later.
      const raise = (s: SqlSession) => s.run(raiseMetaQuery(db, META.keysScrubbed, writes));
      try {
        await (driver.transaction ? driver.transaction(raise) : driver.write(raise, () => true));
      } catch (error) {
        if (!(error instanceof WriteConflictError)) throw error;
      }
    }
    return true;
  }

  async scrubPending(): Promise<boolean> {
    if (this.backend.driver.scrub === undefined) return false;
    const { writes, scrubbed } = await this.#scrubCounts();
    return writes > scrubbed;
  }

  rewrap(rewrapped: (key: LiveKey) => string): Promise<number> {
    return this.backend.driver.write(
      async (s) => {
        const keys = (await s.all<KeyRow>(listKeysQuery(this.backend.db))).map(keyFromRow).filter(isLive);
        // The old wrappings are overwritten, not left in freed space.
        await this.#secureDelete(s);
        for (const key of keys) {
          await s.run(rewrapKeyQuery(this.backend.db, triggerDigest(key.trigger), rewrapped(key)));
        }
        if (keys.length > 0) await this.#markKeyWrite(s);
        return keys.length;
      },
      () => true,
    );
  }
}
