import { createHash } from "node:crypto";
import {
  type KyselyPlugin,
  type OperationNode,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type UnknownRow,
} from "kysely";
import { ValidationError } from "../model/errors.js";
import { DEFAULT_TABLES, type TableNames } from "../model/types.js";
import { checkObject } from "../model/validate.js";
import { LOGICAL_TABLES } from "./schema.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Validates `options.tables` (SPEC section 4) and fills in the defaults. */
export function resolveTables(value: unknown): TableNames {
  if (value === undefined) return DEFAULT_TABLES;
  checkObject(value, "options.tables", ["event", "action", "effect", "trigger"]);
  const names: Record<string, string> = { ...DEFAULT_TABLES };
  for (const [key, name] of Object.entries(value)) {
    if (name === undefined) continue;
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new ValidationError(
        "invalid-name",
        `options.tables.${key}`,
        `expected a name matching ${NAME}, got ${JSON.stringify(name)}`,
      );
    }
    names[key] = name;
  }
  const seen = new Map<string, string>();
  // Defaults first, so that a clash is reported at a name the caller wrote.
  const given = (key: string) => (value as Record<string, unknown>)[key] !== undefined;
  const order = Object.keys(names).sort((a, b) => Number(given(a)) - Number(given(b)));
  for (const key of order) {
    const name = names[key] as string;
    const other = seen.get(name.toLowerCase());
    if (other)
      throw new ValidationError(
        "not-distinct",
        `options.tables.${key}`,
        `the same name as options.tables.${other} (ignoring case)`,
      );
    seen.set(name.toLowerCase(), key);
  }
  const resolved = names as unknown as TableNames;
  // The store's own relations and indexes are named after the four, and SQLite keeps `sqlite_` to itself.
  const own = new Set(ownNames(resolved).map((name) => name.toLowerCase()));
  for (const key of order.reverse()) {
    const name = names[key] as string;
    if (own.has(name.toLowerCase()) || /^sqlite_/i.test(name)) {
      throw new ValidationError(
        "reserved-name",
        `options.tables.${key}`,
        /^sqlite_/i.test(name)
          ? `SQLite keeps names beginning with sqlite_ for itself, got ${JSON.stringify(name)}`
          : `${JSON.stringify(name)} is the name of one of the store's own relations or indexes (ignoring case)`,
      );
    }
  }
  return resolved;
}

/**
 * Renames the logical tables of a query once. Kysely runs a plugin on a
 * subquery when it is embedded in another query and then on the whole query
 * again: the queries it already renamed are kept as they are, else a relation
 * given another's default name (`{ event: "log", action: "events" }`) would
 * be renamed twice (`actions` → `events` → `log`).
 */
class Renamer extends OperationNodeTransformer {
  readonly #renamed = new WeakSet<OperationNode>();

  constructor(private readonly names: ReadonlyMap<string, string>) {
    super();
  }

  /** The query renamed, remembered as such. */
  rename(node: RootOperationNode): RootOperationNode {
    if (this.#renamed.has(node)) return node;
    const out = this.transformNode(node);
    this.#renamed.add(out);
    return out;
  }

  override transformNode<T extends OperationNode | undefined>(node: T, queryId?: QueryId): T {
    if (node !== undefined && this.#renamed.has(node)) return node;
    return super.transformNode(node, queryId);
  }

  protected override transformTable(node: TableNode): TableNode {
    const t = super.transformTable(node);
    const to = this.names.get(t.table.identifier.name);
    if (to === undefined) return t;
    return { ...t, table: { ...t.table, identifier: { ...t.table.identifier, name: to } } };
  }
}

/**
 * The name of a relation of the store's own beyond the four of SPEC section 4:
 * `<event relation>_<suffix>`, shortened with a digest past 63 characters.
 */
export function derivedName(tables: TableNames, suffix: string): string {
  return indexName(tables.event, suffix);
}

/** An index name derived from its table's configured name, within the 63 characters every database takes. */
export function indexName(table: string, suffix: string): string {
  const name = `${table}_${suffix}`;
  if (name.length <= 63) return name;
  const digest = createHash("sha256").update(table).digest("hex").slice(0, 8);
  return `${table.slice(0, 50 - suffix.length)}_${digest}_${suffix}`;
}

/**
 * Every name the store gives, on any database, to a relation, index or
 * constraint of its own beyond the four relations: the relations of
 * {@link derivedName}, the indexes and primary key of `createSchemaQueries`,
 * the foreign keys earlier releases made (`legacyForeignKeys`), and the
 * `<relation>_pkey` PostgreSQL gives a primary key declared with its column.
 * A relation of the four named like one of these would take its place.
 */
export function ownNames(tables: TableNames): string[] {
  const extra = Object.values(EXTRA_TABLES).map((suffix) => derivedName(tables, suffix));
  const rebases = derivedName(tables, "rebases");
  const keys = derivedName(tables, "keys");
  return [
    ...extra,
    indexName(tables.action, "identity"),
    indexName(tables.action, "aggregate"),
    indexName(tables.effect, "trigger"),
    indexName(tables.trigger, "pk"),
    indexName(tables.trigger, "aggregate"),
    indexName(tables.trigger, "trigger"),
    indexName(keys, "expires"),
    indexName(keys, "live"),
    ...[tables.action, tables.effect, tables.trigger, rebases].map((t) => indexName(t, "fk")),
    // PostgreSQL cuts the relation's part of the name so that the whole fits in 63 characters.
    ...[tables.event, tables.action, tables.effect, ...extra].map((r) => `${r.slice(0, 58)}_pkey`),
  ];
}

/** Logical names of the relations beyond the four, with their suffixes. */
const EXTRA_TABLES = { rebases: "rebases", meta: "meta", keys: "keys", projections: "projections" } as const;

/** The configured names of every relation of the store: the four, then its own. */
export function relationNames(tables: TableNames): string[] {
  const four = (Object.keys(LOGICAL_TABLES) as (keyof TableNames)[]).map((key) => tables[key]);
  return [...four, ...Object.values(EXTRA_TABLES).map((suffix) => derivedName(tables, suffix))];
}

/** A Kysely plugin that maps the logical table names of {@link Schema} to the configured ones. */
export function renameTables(tables: TableNames): KyselyPlugin {
  const map = new Map<string, string>();
  for (const key of Object.keys(LOGICAL_TABLES) as (keyof TableNames)[]) map.set(LOGICAL_TABLES[key], tables[key]);
  for (const [logical, suffix] of Object.entries(EXTRA_TABLES)) map.set(logical, derivedName(tables, suffix));
  const renamer = new Renamer(map);
  return {
    transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => renamer.rename(args.node),
    transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => args.result,
  };
}
