import { describe, expectTypeOf, it } from "vitest";
import type { ProjectionSql, RebaseResult, StoredAction, StoredEvent } from "../../src/index.js";

/** The published types say what the runtime guarantees, so callers need no casts. */
describe("public types", () => {
  it("a conflict's ours is an action (effects of a history are not checked); theirs may be either", () => {
    type Conflict = Extract<RebaseResult, { result: "conflict" }>["conflict"];
    expectTypeOf<Conflict["ours"]>().toEqualTypeOf<StoredAction>();
    expectTypeOf<Conflict["theirs"]>().toEqualTypeOf<StoredEvent>();
  });

  it("a projection's SQL handle names one of the three dialects", () => {
    expectTypeOf<ProjectionSql["dialect"]>().toEqualTypeOf<"sqlite" | "postgres" | "mysql">();
  });
});
