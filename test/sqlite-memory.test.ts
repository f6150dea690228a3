import { afterAll, describe } from "vitest";
import { testConformance } from "./conformance/suite.js";
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
  testConformance(factory);
});
