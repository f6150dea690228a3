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

  it("a key path longer than limits.depth keys", async () => {
    const store = openStore("memory:", { limits: { depth: 3 } });
    await expect(store.rebase(1, [event({ assoc: [[["a", "b", "c", "d"], 1]] }) as never])).rejects.toMatchObject({
      code: "too-deep",
      path: "history[0].action.patch.assoc[0][0]",
      message: expect.stringContaining("at most 3 keys (limits.depth)"),
    });
    // As many keys as the limit are fine.
    expect((await store.rebase(1, [event({ assoc: [[["a", "b", "c"], 1]] }) as never])).result).toBe("ok");
    await store.close();
  });

  it("a field that is not a patch value, nested past what any history holds, is too deep without a wrong limit", async () => {
    const store = openStore("memory:");
    let source: unknown = "s";
    for (let i = 0; i < 200; i++) source = [source];
    const deep = { ...event({ assoc: { a: 1 } }), source };
    const error = await store.rebase(1, [deep as never]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "too-deep" });
    expect((error as Error).message).not.toContain("128");
    expect((error as Error).message).toContain("at most 64 levels (limits.depth)");
    await store.close();
  });
});
