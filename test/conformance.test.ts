import { afterAll, describe } from "vitest";
import { testConformance } from "./conformance/suite.js";
import { conformanceFactories } from "./stores.js";

/** One suite, every store. */
for (const factory of conformanceFactories()) {
  describe(`store: ${factory.name}`, () => {
    afterAll(() => factory.dispose());
    testConformance(factory);
  });
}
