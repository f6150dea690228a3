import { describe, expect, it } from "vitest";
import {
  type Identity,
  listProjections,
  openKeystore,
  openStore,
  rebuildProjection,
  runProjection,
  ValidationError,
} from "../src/index.js";
import { act } from "./support/events.js";

/**
 * Arguments are read once, into copies, on every entry point (as `rebase` and
 * `stream` read theirs): a getter or Proxy that throws is a ValidationError
 * (`unreadable`) naming the field, and one that answers differently on each
 * read can neither get past the checks nor change what is used after them.
 */

/** An identity whose id answers each of `ids` in turn (then the last one). */
function flakyIdentity(kind: string, ...ids: unknown[]): Identity {
  let reads = 0;
  const identity = [kind, undefined] as unknown[];
  Object.defineProperty(identity, 1, {
    enumerable: true,
    get: () => ids[Math.min(reads++, ids.length - 1)],
  });
  return identity as unknown as Identity;
}

function throwing(): never {
  throw new Error("unreadable");
}

const MASTER = Buffer.alloc(32, 7);

describe("arguments are read once, into copies", () => {
  it("aggregate and conflicts: a throwing getter or a revoked Proxy is a ValidationError naming the field", async () => {
    const store = openStore("memory:");
    const id = ["book", 1] as unknown[];
    Object.defineProperty(id, 1, { enumerable: true, get: throwing });
    await expect(store.aggregate(id as never)).rejects.toMatchObject({ code: "unreadable", path: "identity[1]" });
    const revoked = Proxy.revocable(["book", 1], {});
    revoked.revoke();
    await expect(store.conflicts(1, revoked.proxy as never)).rejects.toBeInstanceOf(ValidationError);
    await store.close();
  });

  it("aggregate and conflicts use the id that was checked", async () => {
    const store = openStore("memory:");
    await store.rebase(1, [act(["book", 1], { assoc: { t: 1 } })]);
    expect(await store.aggregate(flakyIdentity("book", 1, 10n))).toEqual({ state: { t: 1 }, seqNo: 1 });
    expect((await store.conflicts(1, flakyIdentity("book", 1, Symbol("s")))).map((e) => e.seqNo)).toEqual([1]);
    await store.close();
  });

  it("keystore.expire shreds the key of the trigger its effect names", async () => {
    const store = openStore("memory:");
    const keystore = openKeystore(store, { masterKey: MASTER });
    const sealed = await keystore.encrypt(["key", 9], "secret");
    await keystore.encrypt(["key", "other"], "kept");
    const r = await keystore.expire(flakyIdentity("key", 9, 9, "other", "other"));
    expect(r.result === "expired" && r.effect.effect.trigger).toEqual(["key", 9]);
    expect(await keystore.decrypt(["key", 9], sealed)).not.toBe("secret");
    const expired = (await keystore.keys()).filter((k) => k.expiredAt !== null).map((k) => k.trigger);
    expect(expired).toEqual([["key", 9]]);
    await store.close();
  });

  it("keystore.encrypt seals the value that was checked", async () => {
    const store = openStore("memory:");
    const keystore = openKeystore(store, { masterKey: MASTER });
    let reads = 0;
    const value = {};
    Object.defineProperty(value, "a", { enumerable: true, get: () => (reads++ === 0 ? 1 : Number.NaN) });
    const sealed = await keystore.encrypt(["key", 1], value as never);
    expect(await keystore.decrypt(["key", 1], sealed)).toEqual({ a: 1 });
    const options = {};
    Object.defineProperty(options, "expiresAt", { enumerable: true, get: throwing });
    await expect(keystore.encrypt(["key", 1], 1, options as never)).rejects.toMatchObject({
      code: "unreadable",
      path: "options.expiresAt",
    });
    await store.close();
  });

  it("projections: the name checked is the checkpoint written, and a throwing member is named", async () => {
    const store = openStore("memory:");
    await store.rebase(1, [act(["book", 1])]);
    let reads = 0;
    const projection = {
      get name() {
        return reads++ === 0 ? "titles" : 5;
      },
      apply() {},
    };
    await rebuildProjection(store, projection as never);
    reads = 0;
    const controller = new AbortController();
    await runProjection(store, projection as never, {
      signal: controller.signal,
      onCaughtUp: () => controller.abort(),
    });
    expect((await listProjections(store)).map((p) => [p.name, p.checkpoint])).toEqual([["titles", 1]]);
    const broken = { name: "x", apply() {} };
    Object.defineProperty(broken, "kinds", { enumerable: true, get: throwing });
    await expect(runProjection(store, broken)).rejects.toMatchObject({ code: "unreadable", path: "projection.kinds" });
    const options = {};
    Object.defineProperty(options, "batchSize", { enumerable: true, get: throwing });
    await expect(runProjection(store, { name: "y", apply() {} }, options)).rejects.toMatchObject({
      code: "unreadable",
      path: "options.batchSize",
    });
    await store.close();
  });

  it("openStore and openKeystore: a throwing option is a ValidationError naming it", () => {
    const options = {};
    Object.defineProperty(options, "limits", { enumerable: true, get: throwing });
    expect(() => openStore("memory:", options)).toThrow(
      expect.objectContaining({ code: "unreadable", path: "options.limits" }),
    );
    const store = openStore("memory:");
    const keystoreOptions = {};
    Object.defineProperty(keystoreOptions, "source", { enumerable: true, get: throwing });
    expect(() => openKeystore(store, keystoreOptions)).toThrow(
      expect.objectContaining({ code: "unreadable", path: "options.source" }),
    );
  });

  it("a driver's settings are the driver's: cycles, symbol keys and Date subclasses in them are not refused", async () => {
    // Only the names of the settings are checked (each one the driver reads), not their values.
    const ssl: Record<string | symbol, unknown> = { rejectUnauthorized: false, [Symbol("s")]: 1 };
    ssl.self = ssl;
    ssl.when = new (class extends Date {})(0);
    const postgres: Record<string | symbol, unknown> = { connectionTimeoutMillis: 500, [Symbol("s")]: 1, ssl };
    const store = openStore("postgres://u@127.0.0.1:1/db", { postgres: postgres as never });
    await store.close();
  });

  it("keystore dates may be Date subclasses, read once", async () => {
    const store = openStore("memory:");
    const keystore = openKeystore(store, { masterKey: MASTER });
    await keystore.encrypt(["key", 1], 1);
    class Day extends Date {}
    expect(await keystore.setExpiry(["key", 1], new Day(Date.now() + 60_000))).toBe(true);
    expect((await keystore.expireDue(new Day(0))).effects).toEqual([]);
    await store.close();
  });

  it("a projection's methods are called on the projection itself, whatever properties they carry", async () => {
    const store = openStore("memory:");
    await store.rebase(1, [act(["book", 1])]);
    const seen: number[] = [];
    class Titles {
      readonly name = "titles";
      readonly #seen = seen;
      apply(event: { seqNo: number }) {
        this.#seen.push(event.seqNo);
      }
    }
    const apply = Object.assign((event: { seqNo: number }) => seen.push(-event.seqNo), { apply: 1 });
    for (const projection of [new Titles(), { name: "odd", apply }]) {
      const controller = new AbortController();
      await runProjection(store, projection as never, {
        signal: controller.signal,
        onCaughtUp: () => controller.abort(),
      });
    }
    expect(seen).toEqual([1, -1]);
    await store.close();
  });
});
