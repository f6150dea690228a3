import { afterAll, describe, expect, it } from "vitest";
import type { NewEvent, StoredEvent } from "../src/index.js";
import { storeFactories } from "./stores.js";
import { act, collect, T0 } from "./support/events.js";

/** `n` events on `aggregate`, an effect on its trigger after the `effectAfter`th: each its own timestamp and source. */
function history(aggregate: string, n: number, effectAfter: number, from: number): NewEvent[] {
  const at = (i: number) => new Date(T0.getTime() + from + i);
  const out: NewEvent[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      act(
        ["order", aggregate],
        { assoc: { i } },
        { timestamp: at(i), source: `s${from + i}`, triggers: [["key", aggregate]] },
      ),
    );
    if (i + 1 === effectAfter) {
      out.push({
        timestamp: at(100),
        source: `effect${from}`,
        effect: { reason: "key-expired", trigger: ["key", aggregate] },
      });
    }
  }
  return out;
}

/** What a stored event of `history(...)` numbered from `first` is. */
function stored(events: readonly NewEvent[], first: number): StoredEvent[] {
  return events.map((e, i) => ({ ...e, seqNo: first + i }) as StoredEvent);
}

for (const factory of storeFactories()) {
  describe(`${factory.name}: the event rows of an append`, () => {
    afterAll(() => factory.dispose());

    it("a large rebase with an effect among its actions keeps every event's timestamp and source, on the head and behind it", async () => {
      const store = await factory.create();
      const first = history("a", 12, 5, 0);
      expect((await store.rebase(1, first)).result).toBe("ok");
      // Behind the head (base 1), on another aggregate: the servers' one-round-trip append.
      const second = history("b", 15, 9, 1000);
      expect((await store.rebase(1, second)).result).toBe("ok");
      const all = [...stored(first, 1), ...stored(second, 14)];
      expect(await store.currentSeqNo()).toBe(29);
      expect(await collect(store.stream())).toEqual(all.filter((e) => "action" in e));
      // Theirs is read from the event rows: the actions and the effect on the aggregate's trigger.
      expect(await store.conflicts(1, ["order", "a"])).toEqual(stored(first, 1));
      expect(await store.conflicts(14, ["order", "b"])).toEqual(stored(second, 14));
    });

    it("so does a rebase of more rows than one INSERT takes (1,200 actions, an effect among them)", async () => {
      const store = await factory.create();
      const big = history("c", 1200, 700, 0);
      expect((await store.rebase(1, big)).result).toBe("ok");
      expect(await store.currentSeqNo()).toBe(1201);
      expect(await collect(store.stream())).toEqual(stored(big, 1).filter((e) => "action" in e));
      expect(await store.conflicts(1, ["order", "c"])).toEqual(stored(big, 1));
    });
  });
}
