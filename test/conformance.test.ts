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
import { conformanceFactories } from "./stores.js";

/** One suite, every store: each `test*` function takes a store factory. */
for (const factory of conformanceFactories()) {
  describe(`store: ${factory.name}`, () => {
    afterAll(() => factory.dispose());
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
  });
}
