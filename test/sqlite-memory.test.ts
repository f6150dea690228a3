import { afterAll, describe } from "vitest";
import { testAggregate } from "./conformance/aggregate.js";
import { testBadInput } from "./conformance/bad-input.js";
import { testClosed } from "./conformance/closed.js";
import { testConflicts } from "./conformance/conflicts.js";
import { testFollow } from "./conformance/follow.js";
import { testIdempotentRebase } from "./conformance/idempotent.js";
import { testKeystore } from "./conformance/keystore.js";
import { testProjections } from "./conformance/projections.js";
import { testRebase } from "./conformance/rebase.js";
import { testRoundTrip } from "./conformance/round-trip.js";
import { testStream } from "./conformance/stream.js";
import { testTables } from "./conformance/tables.js";
import { testWalkthrough } from "./conformance/walkthrough.js";
import { sqliteMemoryFactory } from "./stores.js";

/**
 * `sqlite::memory:` (SPEC section 4's URL table) through the conformance
 * suite. It shares the SQLite code of the file store; this checks that an
 * in-memory database, one per store and gone when it closes, takes the same
 * paths.
 */
const factory = sqliteMemoryFactory();
describe(`store: ${factory.name}`, () => {
  afterAll(() => factory.dispose());
  testWalkthrough(factory);
  testRebase(factory);
  testStream(factory);
  testConflicts(factory);
  testAggregate(factory);
  testRoundTrip(factory);
  testIdempotentRebase(factory);
  testTables(factory);
  testClosed(factory);
  testKeystore(factory);
  testBadInput(factory);
  testFollow(factory);
  testProjections(factory);
});
