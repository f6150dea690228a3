import type { StoreFactory } from "../stores.js";
import { testAggregate } from "./aggregate.js";
import { testBadInput } from "./bad-input.js";
import { testClosed } from "./closed.js";
import { testConflicts } from "./conflicts.js";
import { testFollow } from "./follow.js";
import { testIdempotentRebase } from "./idempotent.js";
import { testKeystore } from "./keystore.js";
import { testProjections } from "./projections.js";
import { testRebase } from "./rebase.js";
import { testRoundTrip } from "./round-trip.js";
import { testStream } from "./stream.js";
import { testTables } from "./tables.js";
import { testWalkthrough } from "./walkthrough.js";

/** The whole conformance suite on one store kind: each `test*` function takes its factory. */
export function testConformance(factory: StoreFactory): void {
  testWalkthrough(factory);
  testIdempotentRebase(factory);
  testRebase(factory);
  testStream(factory);
  testConflicts(factory);
  testAggregate(factory);
  testRoundTrip(factory);
  testTables(factory);
  testClosed(factory);
  testKeystore(factory);
  testBadInput(factory);
  testFollow(factory);
  testProjections(factory);
}
