import { describe, expect, it } from "vitest";
import { type KeysetPage, pageLimit, readAhead } from "../src/read-ahead.js";

interface Page extends KeysetPage {
  readonly n: number;
}

/** Pages of 10 keys up to `end`, logging each read as it starts. */
function pages(end: number, log: string[], fail?: number) {
  return async (after: number): Promise<Page> => {
    log.push(`read ${after}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (after === fail) throw new Error(`read ${after} failed`);
    const last = Math.min(after + 10, end);
    return { n: after, last, done: last >= end };
  };
}

describe("readAhead: the next page is read while the caller works through this one", () => {
  it("asks for each next page before it yields the current one, and for no page past the last", async () => {
    const log: string[] = [];
    for await (const page of readAhead(pages(30, log), 0, () => {})) log.push(`yield ${page.n}`);
    expect(log).toEqual(["read 0", "read 10", "yield 0", "read 20", "yield 10", "yield 20"]);
  });

  it("sends the next page's read before the caller works through this one, where the read starts on a later tick", async () => {
    // As a pool does that hands out its connection through `process.nextTick` (mysql2's):
    // only then does the request go out.
    const log: string[] = [];
    const read = (after: number) =>
      new Promise<Page>((resolve) => {
        process.nextTick(() => {
          log.push(`sent ${after}`);
          setTimeout(() => resolve({ n: after, last: after + 10, done: after + 10 >= 30 }), 1);
        });
      });
    for await (const page of readAhead(read, 0, () => {})) {
      // The caller works through its page in microtasks only, as `for await` over settled actions does.
      for (let i = 0; i < 100; i++) await Promise.resolve();
      log.push(`done ${page.n}`);
    }
    expect(log).toEqual(["sent 0", "sent 10", "done 0", "sent 20", "done 10", "done 20"]);
  });

  it("with ahead false, asks for each page once the one before it is done", async () => {
    const log: string[] = [];
    for await (const page of readAhead(pages(30, log), 0, () => {}, false)) log.push(`yield ${page.n}`);
    expect(log).toEqual(["read 0", "yield 0", "read 10", "yield 10", "read 20", "yield 20"]);
  });

  it("checks the store is open before each read and when a page arrives", async () => {
    let open = true;
    const check = () => {
      if (!open) throw new Error("closed");
    };
    const iterator = readAhead(pages(50, []), 0, check);
    expect((await iterator.next()).value?.n).toBe(0);
    open = false;
    await expect(iterator.next()).rejects.toThrow("closed");
  });

  it("a failed read rejects at its page; a read left behind by a caller who stopped fails unheard", async () => {
    const failing = readAhead(pages(50, [], 10), 0, () => {});
    expect((await failing.next()).value?.n).toBe(0);
    await expect(failing.next()).rejects.toThrow("read 10 failed");

    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      for await (const page of readAhead(pages(50, [], 10), 0, () => {})) if (page.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", listener);
    }
  });
});

describe("pageLimit: rows per page of a stream", () => {
  it("is the stream's page size, or the backend's own where it reads ahead and has one", () => {
    expect(pageLimit({}, 2000)).toBe(2000);
    expect(pageLimit({ readsAhead: false, aheadPageSize: 1000 }, 2000)).toBe(2000);
    expect(pageLimit({ readsAhead: true }, 2000)).toBe(2000);
    expect(pageLimit({ readsAhead: true, aheadPageSize: 1000 }, 2000)).toBe(1000);
  });
});
