import { afterAll, describe, expect, it } from "vitest";
import { PAGE_SIZE } from "../src/event-store.js";
import { type NewEvent, type Store, StoreClosedError } from "../src/index.js";
import { storeFactories } from "./stores.js";
import { act, collect } from "./support/events.js";

/** More actions than two pages hold. */
const COUNT = 2 * PAGE_SIZE + 500;

async function filled(create: () => Promise<Store>): Promise<Store> {
  const store = await create();
  const history: NewEvent[] = Array.from({ length: COUNT }, (_, i) => act(["n", i % 7], { assoc: { i } }));
  expect((await store.rebase(1, history)).result).toBe("ok");
  return store;
}

for (const factory of storeFactories()) {
  describe(`stream's iterator behaves as an async generator's: ${factory.name}`, () => {
    afterAll(() => factory.dispose());

    it("answers calls made before the earlier ones settle in order, then done", async () => {
      const store = await filled(() => factory.create());
      const iterator = store.stream()[Symbol.asyncIterator]();
      const results = await Promise.all(Array.from({ length: COUNT + 3 }, () => iterator.next()));
      expect(results.slice(0, COUNT).map((r) => (r.done ? -1 : r.value.seqNo))).toEqual(
        Array.from({ length: COUNT }, (_, i) => i + 1),
      );
      expect(results.slice(COUNT)).toEqual([
        { value: undefined, done: true },
        { value: undefined, done: true },
        { value: undefined, done: true },
      ]);
      expect(await iterator.next()).toEqual({ value: undefined, done: true });
    });

    it("ends at return() (a break), before the first call too, and the store goes on", async () => {
      const store = await filled(() => factory.create());
      let seen = 0;
      for await (const a of store.stream()) {
        seen++;
        if (a.seqNo === PAGE_SIZE + 10) break;
      }
      expect(seen).toBe(PAGE_SIZE + 10);
      const unused = store.stream()[Symbol.asyncIterator]();
      expect(await unused.return?.()).toEqual({ value: undefined, done: true });
      expect(await unused.next()).toEqual({ value: undefined, done: true });
      const midway = store.stream()[Symbol.asyncIterator]();
      await midway.next();
      const [returned, after] = await Promise.all([midway.return?.(), midway.next()]);
      expect(returned).toEqual({ value: undefined, done: true });
      expect(after).toEqual({ value: undefined, done: true });
      expect((await collect(store.stream())).length).toBe(COUNT);
    });

    it("throw() rejects with its error and ends the iteration", async () => {
      const store = await filled(() => factory.create());
      const iterator = store.stream()[Symbol.asyncIterator]();
      await iterator.next();
      const error = new Error("stop");
      await expect(iterator.throw?.(error)).rejects.toBe(error);
      expect(await iterator.next()).toEqual({ value: undefined, done: true });
    });

    it("a store closed during a stream rejects with StoreClosedError at the next page", async () => {
      const store = await filled(() => factory.create());
      const iterator = store.stream()[Symbol.asyncIterator]();
      for (let i = 0; i < PAGE_SIZE; i++) expect((await iterator.next()).done).toBe(false);
      await store.close();
      await expect(iterator.next()).rejects.toBeInstanceOf(StoreClosedError);
      expect(await iterator.next()).toEqual({ value: undefined, done: true });
    });
  });
}
