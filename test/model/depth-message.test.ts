import { describe, expect, it } from "vitest";
import { openStore } from "../../src/index.js";

/** The too-deep message names limits.depth as it was set, whichever form the assoc takes. */
describe("too-deep: the message names the limit that was set", () => {
  let value: unknown = 1;
  for (let i = 0; i < 4; i++) value = { a: value };
  const event = (patch: unknown) => ({
    timestamp: new Date(0),
    source: "s",
    action: { reason: "r", actor: ["u", 1], aggregate: ["b", 1], patch },
  });
  for (const [form, patch] of [
    ["an object assoc", { assoc: { a: value } }],
    ["a pair assoc", { assoc: [["a", value]] }],
  ] as const) {
    it(form, async () => {
      const store = openStore("memory:", { limits: { depth: 3 } });
      await expect(store.rebase(1, [event(patch) as never])).rejects.toMatchObject({
        code: "too-deep",
        message: expect.stringContaining("at most 3 levels (limits.depth)"),
      });
      await store.close();
    });
  }
});
