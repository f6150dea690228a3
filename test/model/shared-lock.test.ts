import { describe, expect, it } from "vitest";
import { SharedLock } from "../../src/mutex.js";

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe("SharedLock", () => {
  it("shared holders run together; an exclusive one waits for those running, and goes before those that come later", async () => {
    const lock = new SharedLock();
    const log: string[] = [];
    const first = gate();
    const second = gate();
    const a = lock.shared(async () => {
      log.push("a start");
      await first.promise;
      log.push("a end");
    });
    const b = lock.shared(async () => {
      log.push("b start");
      await second.promise;
      log.push("b end");
    });
    const x = lock.exclusive(async () => {
      log.push("x");
    });
    const c = lock.shared(async () => {
      log.push("c");
    });
    await turn();
    expect(log).toEqual(["a start", "b start"]);
    first.open();
    await turn();
    expect(log).toEqual(["a start", "b start", "a end"]);
    second.open();
    await Promise.all([a, b, x, c]);
    expect(log).toEqual(["a start", "b start", "a end", "b end", "x", "c"]);
  });

  it("exclusive holders run one at a time, and a failing holder releases the lock", async () => {
    const lock = new SharedLock();
    let running = 0;
    let most = 0;
    const hold = (fail: boolean) =>
      lock.exclusive(async () => {
        running++;
        most = Math.max(most, running);
        await turn();
        running--;
        if (fail) throw new Error("failed");
      });
    const results = await Promise.allSettled([hold(true), hold(false), hold(true), hold(false)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled"]);
    expect(most).toBe(1);
    await expect(lock.shared(async () => "after")).resolves.toBe("after");
  });
});
