import { afterAll, describe } from "vitest";
import { testIdempotentRebase } from "./conformance/idempotent.js";
import { testRebase } from "./conformance/rebase.js";
import { testStream } from "./conformance/stream.js";
import { testWalkthrough } from "./conformance/walkthrough.js";
import { storeFactories } from "./stores.js";

/** One suite, every store: each `test*` function takes a store factory. */
for (const factory of storeFactories()) {
  describe(`store: ${factory.name}`, () => {
    afterAll(() => factory.dispose());
    testWalkthrough(factory);
    testIdempotentRebase(factory);
    testRebase(factory);
    testStream(factory);
  });
}
