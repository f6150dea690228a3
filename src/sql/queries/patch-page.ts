import type { CompiledQuery, Kysely } from "kysely";
import type { EncodedIdentity } from "../../model/codec.js";
import type { SqlDialect } from "../dialect.js";
import type { Schema } from "../schema.js";
import type { TextOf } from "./action-page.js";
import { compiledOnce } from "./compiled-once.js";

/**
 * `[seq_no, aggregate_kind, aggregate_id, patch]` of the actions whose
 * aggregate has `aggregate`'s hash, with `after < seqNo <= until`, ascending,
 * at most `limit`: what `aggregate()` folds, through the
 * `actions(aggregate_hash, seq_no)` index, without the event columns. Kind
 * and id are compared by the caller, exactly, as the stream's filter is: a
 * connection in another character set cannot send every id as a parameter.
 * With `identityInSql` ({@link SqlDialect.identityInSql}: SQLite, PostgreSQL),
 * kind and id are compared in SQL instead, and the rows are `[seq_no, patch]`
 * (on SQLite the page then reads through its identity index).
 */
export function patchPageQuery(
  db: Kysely<Schema>,
  aggregate: EncodedIdentity,
  after: number,
  until: number,
  limit: number,
  textOf?: TextOf,
  inSql = false,
): CompiledQuery {
  const values = inSql
    ? [aggregate.hash, after, until, limit, aggregate.id, aggregate.kind]
    : [aggregate.hash, after, until, limit];
  // Qualified column names: the MySQL driver takes `textOf`'s casts out of `a`.`column` where it must read bytes.
  const text = (column: "aggregate_kind" | "aggregate_id" | "patch") =>
    textOf ? textOf(`a.${column}`).as(column) : (`a.${column}` as const);
  return compiledOnce(db, `patch-page:${textOf ? "text" : "bytes"}:${inSql}`, values, (slots) =>
    db
      .selectFrom("actions as a")
      .select(
        inSql ? ["a.seq_no", text("patch")] : ["a.seq_no", text("aggregate_kind"), text("aggregate_id"), text("patch")],
      )
      .where("a.aggregate_hash", "=", slots[0] as never)
      // Kind and id compared exactly, in SQL (through the identity index, where there is one).
      .$if(inSql, (q) =>
        q.where("a.aggregate_id", "=", slots[4] as never).where("a.aggregate_kind", "=", slots[5] as never),
      )
      .where("a.seq_no", ">", slots[1] as never)
      .where("a.seq_no", "<=", slots[2] as never)
      .orderBy("a.seq_no")
      .limit(slots[3] as never)
      .compile(),
  );
}
