import { type CompiledQuery, type Kysely, sql } from "kysely";
import type { TableNames } from "../../model/types.js";
import type { ForeignKey, SqlDialect } from "../dialect.js";
import type { Schema } from "../schema.js";
import { derivedName, indexName } from "../tables.js";

/**
 * The DDL of the four relations and the indexes their queries use:
 * - `actions(aggregate_hash, seq_no)`: the conflict check, `aggregate()`, filtered streams;
 *   `actions(aggregate_id, aggregate_kind, seq_no)` instead where the dialect has an
 *   {@link SqlDialect.identityIndex} (whose first `initSchema` drops the hash index);
 * - `effects(trigger_hash, seq_no)`: effects on an aggregate's triggers;
 * - `triggers(aggregate_hash, trigger_hash)`: an aggregate's triggers;
 * - `triggers(trigger_hash)`: the aggregates an effect replays;
 * - `keys(expires_at)`: the keystore's keys that are due;
 * - `keys(expired_at)`: a live key (`expired_at` null), for the master-key check.
 * Constraints are named after their relation. There are no foreign keys: a
 * rebase writes an event's rows in every relation in one transaction and
 * nothing updates or deletes them, so the checks would only cost every
 * insert (on PostgreSQL a trigger per row: 20% of a rebase of 100 actions);
 * see {@link legacyForeignKeys} for those of earlier releases.
 * Every statement is idempotent.
 */
export function createSchemaQueries(db: Kysely<Schema>, dialect: SqlDialect, tables: TableNames): CompiledQuery[] {
  const t = dialect.types;
  const type = (name: string) => sql.raw(name);
  const statements: CompiledQuery[] = [
    db.schema
      .createTable("events")
      .ifNotExists()
      .addColumn("seq_no", type(t.bigint), (c) => c.primaryKey().notNull())
      .addColumn("timestamp", type(t.bigint), (c) => c.notNull())
      .addColumn("source", type(t.kind), (c) => c.notNull())
      .compile(),
    db.schema
      .createTable("actions")
      .ifNotExists()
      .addColumn("seq_no", type(t.bigint), (c) => c.primaryKey().notNull())
      .addColumn("reason", type(t.kind), (c) => c.notNull())
      .addColumn("actor_kind", type(t.kind), (c) => c.notNull())
      .addColumn("actor_id", type(t.id), (c) => c.notNull())
      .addColumn("aggregate_kind", type(t.kind), (c) => c.notNull())
      .addColumn("aggregate_id", type(t.id), (c) => c.notNull())
      .addColumn("aggregate_hash", type(t.bigint), (c) => c.notNull())
      .addColumn("patch", type(t.json), (c) => c.notNull())
      .addColumn("triggers", type(t.json))
      // Copies of the event's: reads of actions need no join (`SqlDialect.eventColumnsUpgrade` adds them to older stores).
      .addColumn("timestamp", type(t.bigint), (c) => c.notNull())
      .addColumn("source", type(t.kind), (c) => c.notNull())
      .compile(),
    db.schema
      .createTable("effects")
      .ifNotExists()
      .addColumn("seq_no", type(t.bigint), (c) => c.primaryKey().notNull())
      .addColumn("reason", type(t.kind), (c) => c.notNull())
      .addColumn("trigger_kind", type(t.kind), (c) => c.notNull())
      .addColumn("trigger_id", type(t.id), (c) => c.notNull())
      .addColumn("trigger_hash", type(t.bigint), (c) => c.notNull())
      .compile(),
    db.schema
      .createTable("triggers")
      .ifNotExists()
      .addColumn("seq_no", type(t.bigint), (c) => c.notNull())
      .addColumn("position", type(t.integer), (c) => c.notNull())
      .addColumn("trigger_kind", type(t.kind), (c) => c.notNull())
      .addColumn("trigger_id", type(t.id), (c) => c.notNull())
      .addColumn("trigger_hash", type(t.bigint), (c) => c.notNull())
      .addColumn("aggregate_kind", type(t.kind), (c) => c.notNull())
      .addColumn("aggregate_id", type(t.id), (c) => c.notNull())
      .addColumn("aggregate_hash", type(t.bigint), (c) => c.notNull())
      .addPrimaryKeyConstraint(indexName(tables.trigger, "pk"), ["seq_no", "position"])
      .compile(),
    db.schema
      .createTable("rebases")
      .ifNotExists()
      .addColumn("id", type(t.kind), (c) => c.primaryKey().notNull())
      .addColumn("digest", type(t.kind), (c) => c.notNull())
      .addColumn("first_seq_no", type(t.bigint), (c) => c.notNull())
      .addColumn("count", type(t.integer), (c) => c.notNull())
      .compile(),
    db.schema
      .createTable("meta")
      .ifNotExists()
      .addColumn("name", type(t.kind), (c) => c.primaryKey().notNull())
      .addColumn("value", type(t.bigint), (c) => c.notNull())
      .compile(),
    // The primary key is a digest of the trigger: ids are unbounded text, which MySQL cannot key.
    db.schema
      .createTable("keys")
      .ifNotExists()
      .addColumn("trigger_digest", type(t.kind), (c) => c.primaryKey().notNull())
      .addColumn("trigger_kind", type(t.kind), (c) => c.notNull())
      .addColumn("trigger_id", type(t.id), (c) => c.notNull())
      .addColumn("generation", type(t.integer), (c) => c.notNull())
      .addColumn("wrapped", type(t.kind))
      .addColumn("created_at", type(t.bigint), (c) => c.notNull())
      .addColumn("expires_at", type(t.bigint))
      .addColumn("expired_at", type(t.bigint))
      .compile(),
    db.schema
      .createTable("projections")
      .ifNotExists()
      .addColumn("name", type(t.kind), (c) => c.primaryKey().notNull())
      .addColumn("checkpoint", type(t.bigint), (c) => c.notNull())
      .addColumn("updated_at", type(t.bigint), (c) => c.notNull())
      .compile(),
  ];
  const index = (table: keyof Schema, name: string, columns: string[]) => {
    let q = db.schema.createIndex(name).on(table).columns(columns);
    if (dialect.supportsCreateIndexIfNotExists) q = q.ifNotExists();
    statements.push(q.compile());
  };
  if (dialect.identityIndex) {
    index("actions", indexName(tables.action, "identity"), ["aggregate_id", "aggregate_kind", "seq_no"]);
    // Made by releases before the identity index, and now only a cost on every insert.
    statements.push(db.schema.dropIndex(indexName(tables.action, "aggregate")).ifExists().compile());
  } else {
    index("actions", indexName(tables.action, "aggregate"), ["aggregate_hash", "seq_no"]);
  }
  index("effects", indexName(tables.effect, "trigger"), ["trigger_hash", "seq_no"]);
  index("triggers", indexName(tables.trigger, "aggregate"), ["aggregate_hash", "trigger_hash"]);
  index("triggers", indexName(tables.trigger, "trigger"), ["trigger_hash"]);
  index("keys", indexName(derivedName(tables, "keys"), "expires"), ["expires_at"]);
  // Live keys have none: the master-key check finds one without reading the expired ones.
  index("keys", indexName(derivedName(tables, "keys"), "live"), ["expired_at"]);
  return statements;
}

/**
 * `[relation, constraint]` of the foreign keys earlier releases made (each
 * named after its relation, as MySQL names foreign keys across a whole
 * database): from the action, effect, trigger and rebase-record relations
 * to the event or action relation. `initSchema` drops those it finds.
 */
export function legacyForeignKeys(tables: TableNames): [string, string][] {
  const rebases = derivedName(tables, "rebases");
  return [tables.action, tables.effect, tables.trigger, rebases].map((t) => [t, indexName(t, "fk")]);
}

/**
 * `{ table_name, constraint_name }` of those of the foreign keys `keys`
 * (`[relation, constraint]`) that exist in the schema `schema` names (SQL:
 * `current_schema()`, `database()`), from `information_schema`, its names
 * cast to the dialect's `text` type (MySQL's are in another character set).
 */
export function foreignKeysIn(
  db: Kysely<unknown>,
  schema: string,
  text: string,
  keys: readonly (readonly [string, string])[],
): CompiledQuery<ForeignKey> {
  const table = sql.raw(`cast(table_name as ${text})`);
  const name = sql.raw(`cast(constraint_name as ${text})`);
  const pairs = keys.map(([t, n]) => sql`(${t}, ${n})`);
  return sql<ForeignKey>`select ${table} as table_name, ${name} as constraint_name from information_schema.table_constraints where constraint_type = 'FOREIGN KEY' and table_schema = ${sql.raw(schema)} and (${table}, ${name}) in (${sql.join(pairs)})`.compile(
    db,
  );
}
