import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_POLL_MS, MIN_POLL_MS, WATCH_RETRY_MS, Wakeup } from "../src/follow/wakeup.js";

/** `n` waits in a row with nothing to wake them, on fake timers (the spies read their intervals). */
async function waits(wakeup: Wakeup, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const waited = wakeup.wait();
    await vi.advanceTimersByTimeAsync(MAX_POLL_MS);
    await waited;
  }
}

describe("a follower's polling", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("doubles from MIN_POLL_MS up to MAX_POLL_MS while nothing happens, and starts over once active", async () => {
    const wakeup = new Wakeup({ key: {} });
    try {
      const spy = vi.spyOn(globalThis, "setTimeout");
      await waits(wakeup, 8);
      const timers = spy.mock.calls.map((c) => Number(c[1]));
      spy.mockRestore();
      expect(timers).toEqual([10, 20, 40, 80, 160, 320, 500, 500]);
      wakeup.active();
      const again = vi.spyOn(globalThis, "setTimeout");
      await waits(wakeup, 1);
      expect(again.mock.calls.map((c) => Number(c[1]))).toEqual([MIN_POLL_MS]);
      again.mockRestore();
    } finally {
      wakeup.dispose();
    }
  });

  it("stops at a store's own ceiling (MySQL/MariaDB: 100 ms)", async () => {
    const wakeup = new Wakeup({ key: {}, maxIntervalMs: 100 });
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      await waits(wakeup, 6);
      expect(spy.mock.calls.map((c) => Number(c[1]))).toEqual([10, 20, 40, 80, 100, 100]);
    } finally {
      spy.mockRestore();
      wakeup.dispose();
    }
  });
});

describe("a follower whose notification channel fails", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("goes on polling and listens again WATCH_RETRY_MS later, doubling while it keeps failing", async () => {
    const subscriptions: { fail: (error: unknown) => void; ended: boolean }[] = [];
    const watch = (_onCommit: () => void, onError: (error: unknown) => void) => {
      const subscription = { fail: onError, ended: false };
      subscriptions.push(subscription);
      return () => {
        subscription.ended = true;
      };
    };
    const wakeup = new Wakeup({ key: {}, watch });
    try {
      expect(subscriptions).toHaveLength(1);
      subscriptions[0]?.fail(new Error("terminating connection due to administrator command"));
      expect(subscriptions[0]?.ended).toBe(true);
      // Woken at once (a commit may have gone unheard), and nothing is thrown.
      await wakeup.wait();
      wakeup.clear();
      await waits(wakeup, 1);
      expect(subscriptions).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(WATCH_RETRY_MS);
      await waits(wakeup, 1);
      expect(subscriptions).toHaveLength(2);
      subscriptions[1]?.fail(new Error("again"));
      await vi.advanceTimersByTimeAsync(WATCH_RETRY_MS);
      await waits(wakeup, 1);
      expect(subscriptions).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(WATCH_RETRY_MS);
      await waits(wakeup, 1);
      expect(subscriptions).toHaveLength(3);
    } finally {
      wakeup.dispose();
    }
    expect(subscriptions[2]?.ended).toBe(true);
  });
});
