import type { AliasedRawBuilder, CompiledQuery, Kysely, RawBuilder, SelectQueryBuilder } from "kysely";
import type { ActionFilter } from "../../backend.js";
import type { EncodedIdentity } from "../../model/codec.js";
import type { SqlDialect } from "../dialect.js";
import type { Schema } from "../schema.js";
import { compiledOnce } from "./compiled-once.js";
import type { ActionRow } from "./rows.js";

/** Filters longer than this are applied in JS only, keeping statements small. */
export const MAX_PUSHED_FILTER = 500;

type Actions = Schema & { a: Schema["actions"] };

/** A dialect's {@link SqlDialect.textOf}: a string column (`"a.patch"`) selected as text. */
export type TextOf = (ref: string) => RawBuilder<string>;

/** The string columns of an {@link ActionRow}, as `selectActions` reads them. */
const TEXT_COLUMNS = [
  "a.source",
  "a.reason",
  "a.actor_kind",
  "a.actor_id",
  "a.aggregate_kind",
  "a.aggregate_id",
  "a.patch",
  "a.triggers",
] as const;

/**
 * The part of a filter SQL applies, each list where it is short enough: the
 * distinct hashes of the aggregates (and, for an identity index, the
 * aggregates themselves, for SQL to find through it), and the kinds.
 */
function pushed(
  filter: ActionFilter,
  identityIndex: boolean,
): { hashes?: number[]; identities?: readonly EncodedIdentity[]; kinds?: readonly string[] } {
  const { aggregates, kinds } = filter;
  const shortKinds = kinds !== undefined && kinds.length <= MAX_PUSHED_FILTER ? kinds : undefined;
  if (aggregates === undefined || aggregates.length > MAX_PUSHED_FILTER) return { kinds: shortKinds };
  return {
    hashes: [...new Set(aggregates.map((a) => a.hash))],
    identities: identityIndex ? aggregates : undefined,
    kinds: shortKinds,
  };
}

/**
 * `actions as a`, selecting an {@link ActionRow}, filtered as far as SQL can (the action relation
 * holds its event's timestamp and source: no join);
 * its column order is the one `actionFromValues` reads. With `textOf`, the string columns are selected
 * through it, under their own names. With `identityIndex` ({@link SqlDialect.identityIndex}), the
 * aggregates of the filter are also compared by kind and id, so their rows are found through that index.
 */
export function selectActions(
  db: Kysely<Schema>,
  filter: ActionFilter,
  textOf?: TextOf,
  identityIndex = false,
): SelectQueryBuilder<Actions, "a", ActionRow> {
  const { hashes, identities, kinds } = pushed(filter, identityIndex);
  const pairs = identities?.map((a): [unknown, unknown] => [a.id, a.kind]);
  return selectPushed(db, { hashes, pairs, kinds }, textOf);
}

/** What {@link selectPushed} filters on: values, or the slots standing for them. */
interface Pushed {
  readonly hashes?: readonly unknown[] | undefined;
  /** `[id, kind]` of each aggregate, where they are compared in SQL. */
  readonly pairs?: readonly (readonly [unknown, unknown])[] | undefined;
  readonly kinds?: readonly unknown[] | undefined;
}

function selectPushed(
  db: Kysely<Schema>,
  { hashes, pairs, kinds }: Pushed,
  textOf: TextOf | undefined,
): SelectQueryBuilder<Actions, "a", ActionRow> {
  const text: readonly (string | AliasedRawBuilder<string, string>)[] = textOf
    ? TEXT_COLUMNS.map((ref) => textOf(ref).as(ref.slice(2)))
    : TEXT_COLUMNS;
  const columns = ["a.seq_no", "a.timestamp", ...text] as unknown as ["a.seq_no"];
  const selected = (db as unknown as Kysely<Actions>)
    .selectFrom("actions as a")
    .select(columns) as unknown as SelectQueryBuilder<Actions, "a", ActionRow>;
  return selected
    .$if(hashes !== undefined, (q) => q.where("a.aggregate_hash", "in", hashes as number[]))
    .$if(pairs !== undefined, (q) =>
      q.where((eb) =>
        eb.or(
          (pairs ?? []).map(([id, kind]) =>
            eb.and([eb("a.aggregate_id", "=", id as string), eb("a.aggregate_kind", "=", kind as string)]),
          ),
        ),
      ),
    )
    .$if(kinds !== undefined, (q) => q.where("a.aggregate_kind", "in", kinds as string[]));
}

/** Actions with `after < seqNo <= until`, ascending, at most `limit`; compiled once per shape of the filter. */
export function actionPageQuery(
  db: Kysely<Schema>,
  filter: ActionFilter,
  after: number,
  until: number,
  limit: number,
  textOf?: TextOf,
  identityIndex = false,
): CompiledQuery<ActionRow> {
  const { hashes, identities, kinds } = pushed(filter, identityIndex);
  const h = hashes?.length ?? -1;
  const p = identities?.length ?? -1;
  const k = kinds?.length ?? -1;
  const values: unknown[] = [...(hashes ?? [])];
  for (const a of identities ?? []) values.push(a.id, a.kind);
  values.push(...(kinds ?? []), after, until, limit);
  return compiledOnce(db, `action-page:${h}:${p}:${k}:${textOf ? "text" : "bytes"}`, values, (slots) => {
    const atPairs = Math.max(h, 0);
    const atKinds = atPairs + 2 * Math.max(p, 0);
    const at = atKinds + Math.max(k, 0);
    const pairs = Array.from({ length: Math.max(p, 0) }, (_, i): [unknown, unknown] => [
      slots[atPairs + 2 * i],
      slots[atPairs + 2 * i + 1],
    ]);
    return selectPushed(
      db,
      {
        hashes: h < 0 ? undefined : slots.slice(0, h),
        pairs: p < 0 ? undefined : pairs,
        kinds: k < 0 ? undefined : slots.slice(atKinds, at),
      },
      textOf,
    )
      .where("a.seq_no", ">", slots[at] as never)
      .where("a.seq_no", "<=", slots[at + 1] as never)
      .orderBy("a.seq_no")
      .limit(slots[at + 2] as never)
      .compile();
  });
}
