import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it, vi } from "vitest";
import {
  DecryptionError,
  type Identity,
  isRedacted,
  type Json,
  type Keystore,
  type NewEvent,
  openKeystore,
  openStore,
  REDACTED,
  type Store,
  StoreClosedError,
} from "../../src/index.js";
import { MemoryKeyStorage } from "../../src/keystore/memory-key-storage.js";
import { SqlKeyStorage } from "../../src/keystore/sql-key-storage.js";
import { triggerDigest } from "../../src/keystore/trigger-digest.js";
import { encodeIdentity } from "../../src/model/codec.js";
import type { StoreFactory } from "../stores.js";
import { startChild } from "../support/child.js";
import { collect, receipt } from "../support/events.js";

const MASTER = randomBytes(32).toString("base64");

function book(actor: string, title: string, genre: string, reason = "create"): NewEvent {
  return {
    timestamp: new Date(),
    source: "bookstore",
    action: {
      reason,
      actor: ["user", actor],
      aggregate: ["book", title],
      patch: reason === "create" ? { assoc: { author: "William Gibson", genre } } : { assoc: { genre } },
    },
  };
}

type Receipts = Map<number, { no: Json; total: Json }>;

/**
 * A read model of receipts with card numbers decrypted, fed by `stream`. An
 * action before `offset` is a replay: its aggregate is rebuilt from scratch.
 */
async function project(store: Store, keystore: Keystore, view: Receipts, offset: number): Promise<number> {
  const rebuilt = new Set<number>();
  for await (const e of store.stream({ offset, kinds: ["receipt"] })) {
    const id = e.action.aggregate[1] as number;
    if (e.seqNo < offset && !rebuilt.has(id)) {
      view.delete(id);
      rebuilt.add(id);
    }
    const { no, total } = e.action.patch.assoc as { no: string; total: number };
    view.set(id, { no: await keystore.decrypt(["encryption-key", id], no), total });
  }
  return (await store.currentSeqNo()) + 1;
}

/** The walkthrough's first three rebases (SPEC 6): the books, seqNos 1 to 4. */
async function books(store: Store): Promise<void> {
  expect(
    (await store.rebase(1, [book("alice", "Neuromancer", "SciFi"), book("alice", "Count Zero", "Cyberpunk")])).result,
  ).toBe("ok");
  const bob = [book("bob", "Mona Lisa Overdrive", "Cyberpunk"), book("bob", "Neuromancer", "Cyberpunk", "update")];
  expect((await store.rebase(1, bob, { resolved: [1] })).result).toBe("ok");
}

/** Crypto-shredding (issue 6): a keystore on the store's own database. */
export function testKeystore(factory: StoreFactory): void {
  describe("keystore: crypto-shredding", () => {
    it("the walkthrough's receipts, encrypted and projected: after key 1 expires the replayed projection holds receipt 2's number and no longer receipt 1's", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      await books(store);

      const no1 = await keystore.encrypt(["encryption-key", 1], "avd2dlg3g93fm1osu");
      const no2 = await keystore.encrypt(["encryption-key", 2], "kepf62djsdk8fw21");
      expect(no1).not.toContain("avd2dlg3g93fm1osu");
      const receipts = await store.rebase(2, [receipt(1, no1, 100), receipt(2, no2, 200)]);
      expect(receipts.result === "ok" && receipts.events.map((e) => e.seqNo)).toEqual([5, 6]);

      const view: Receipts = new Map();
      let offset = await project(store, keystore, view, 0);
      expect(Object.fromEntries(view)).toEqual({
        1: { no: "avd2dlg3g93fm1osu", total: 100 },
        2: { no: "kepf62djsdk8fw21", total: 200 },
      });
      expect(offset).toBe(7);

      const expired = await keystore.expire(["encryption-key", 1]);
      expect(expired.result).toBe("expired");
      if (expired.result !== "expired") return;
      expect(expired.scrubbed).toBe(true);
      expect(expired.effect).toMatchObject({
        seqNo: 7,
        source: "keystore",
        effect: { reason: "key-expired", trigger: ["encryption-key", 1] },
      });

      // The walkthrough's stream from 6: receipt 1 replayed, then receipt 2.
      const replay = await collect(store.stream({ offset: 6 }));
      expect(replay.map((e) => [e.seqNo, e.action.aggregate])).toEqual([
        [5, ["receipt", 1]],
        [6, ["receipt", 2]],
      ]);

      offset = await project(store, keystore, view, offset);
      expect(offset).toBe(8);
      expect(view.get(2)).toEqual({ no: "kepf62djsdk8fw21", total: 200 });
      expect(view.get(1)).toEqual({ no: REDACTED, total: 100 });
      expect(JSON.stringify([...view.values()])).not.toContain("avd2dlg3g93fm1osu");

      // A projection built from scratch agrees.
      const fresh: Receipts = new Map();
      await project(store, keystore, fresh, 0);
      expect(fresh).toEqual(view);

      const after = await keystore.decrypt(["encryption-key", 1], no1);
      expect(isRedacted(after)).toBe(true);
      expect(isRedacted(JSON.parse(JSON.stringify(after)))).toBe(true);
      expect(await keystore.decrypt(["encryption-key", 2], no2)).toBe("kepf62djsdk8fw21");
    });

    it("expiring a key that is gone writes nothing and says absent", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      expect(await keystore.expire(["encryption-key", 9])).toEqual({ result: "absent" });
      await keystore.encrypt(["encryption-key", 9], 1);
      expect((await keystore.expire(["encryption-key", 9])).result).toBe("expired");
      expect(await keystore.expire(["encryption-key", 9])).toEqual({ result: "absent" });
      expect(await store.currentSeqNo()).toBe(1);
    });

    it("keys list their triggers and times, never key material; expiry keeps a record without the key", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const due = new Date(Date.now() + 60_000);
      await keystore.encrypt(["subject", "alice"], { email: "alice@example.com" }, { expiresAt: due });
      await keystore.encrypt(["subject", "1"], "x");
      await keystore.expire(["subject", "1"]);
      const keys = await keystore.keys();
      expect(keys.map((k) => [k.trigger, k.expiresAt, k.expiredAt === null])).toEqual([
        [["subject", "alice"], due, true],
        [["subject", "1"], null, false],
      ]);
      expect(JSON.stringify(keys)).not.toMatch(/kw1\./);
    });

    it("expireDue expires exactly the keys due, each with its effect", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const now = new Date();
      const texts = new Map<number, string>();
      for (const [id, offsetMs] of [
        [1, -2000],
        [2, 60_000],
        [3, -1000],
      ] as const) {
        texts.set(id, await keystore.encrypt(["k", id], id, { expiresAt: new Date(now.getTime() + offsetMs) }));
      }
      await keystore.encrypt(["k", 4], 4);
      const result = await keystore.expireDue(now);
      expect(result.effects.map((e) => [e.seqNo, e.effect.trigger])).toEqual([
        [1, ["k", 1]],
        [2, ["k", 3]],
      ]);
      expect((await keystore.expireDue(now)).effects).toEqual([]);
      expect(isRedacted(await keystore.decrypt(["k", 1], texts.get(1) as string))).toBe(true);
      expect(await keystore.decrypt(["k", 2], texts.get(2) as string)).toBe(2);
      expect(await keystore.setExpiry(["k", 2], now)).toBe(true);
      expect(await keystore.setExpiry(["k", 1], now)).toBe(false);
      expect((await keystore.expireDue(now)).effects.map((e) => e.effect.trigger)).toEqual([["k", 2]]);
    });

    it("expireDue leaves a key that is no longer due when its turn comes: expiry moved, or expired and made anew", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const other = openKeystore(store, { masterKey: MASTER });
      const now = Date.now();
      for (let i = 1; i <= 30; i++) await keystore.encrypt(["k", i], i, { expiresAt: new Date(now - 10_000 + i) });
      let renewed: string | undefined;
      // Right after expireDue has listed the keys due: key 30's expiry moves, key 29 expires and is made anew.
      const spies = [SqlKeyStorage.prototype, MemoryKeyStorage.prototype].map((proto) => {
        const due = proto.due;
        return vi.spyOn(proto, "due").mockImplementation(async function (this: typeof proto, at: number) {
          const listed = await due.call(this, at);
          expect(await other.setExpiry(["k", 30], new Date(now + 60_000))).toBe(true);
          expect((await other.expire(["k", 29])).result).toBe("expired");
          renewed = await other.encrypt(["k", 29], "again");
          return listed;
        });
      });
      try {
        const { effects } = await keystore.expireDue(new Date(now));
        expect(effects.map((e) => e.effect.trigger)).toEqual(Array.from({ length: 28 }, (_, i) => ["k", i + 1]));
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      expect(await keystore.decrypt(["k", 29], renewed as string)).toBe("again");
      // keys() lists by creation time, and a fast store makes key 30 and the new key 29 in the same millisecond.
      const live = (await keystore.keys()).filter((k) => k.expiredAt === null).map((k) => k.trigger);
      expect(live.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
        ["k", 29],
        ["k", 30],
      ]);
    });

    it("setExpiry and expireDue refuse what is not a valid Date with a ValidationError, changing nothing", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const due = new Date(Date.now() - 1000);
      await keystore.encrypt(["k", 1], 1, { expiresAt: due });
      for (const bad of [new Date(Number.NaN), 123, "2020-01-01"]) {
        await expect(keystore.setExpiry(["k", 1], bad as never)).rejects.toMatchObject({
          name: "ValidationError",
          path: "expiresAt",
        });
        await expect(keystore.expireDue(bad as never)).rejects.toMatchObject({ name: "ValidationError", path: "now" });
      }
      expect((await keystore.keys()).map((k) => [k.expiresAt, k.expiredAt])).toEqual([[due, null]]);
      expect(await store.currentSeqNo()).toBe(0);
    });

    it("a new key after expiry: old ciphertexts stay redacted, new ones decrypt", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const old = await keystore.encrypt(["subject", "bob"], "old");
      await keystore.expire(["subject", "bob"]);
      const renewed = await keystore.encrypt(["subject", "bob"], "new");
      expect(await keystore.decrypt(["subject", "bob"], renewed)).toBe("new");
      expect(await keystore.decrypt(["subject", "bob"], old)).toBe(REDACTED);
    });

    it("values round-trip as JSON, each with a fresh IV", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const values: Json[] = [null, true, 0, -1.5, "", "ünïcødé 🔑", [1, [2]], { a: { b: [null] } }];
      for (const value of values) {
        const text = await keystore.encrypt(["t", 1], value);
        expect(JSON.parse(JSON.stringify(text))).toBe(text);
        expect(await keystore.decrypt(["t", 1], text)).toEqual(value);
      }
      const a = await keystore.encrypt(["t", 1], "same");
      const b = await keystore.encrypt(["t", 1], "same");
      expect(a).not.toBe(b);
    });

    it("tampering with a ciphertext, or decrypting it under another trigger, is a DecryptionError", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const text = await keystore.encrypt(["encryption-key", 1], "avd2dlg3g93fm1osu");
      await keystore.encrypt(["encryption-key", 2], "kepf62djsdk8fw21");
      const body = Buffer.from(text.slice(4), "base64url");
      for (const at of [4, 10, body.length - 20, body.length - 1]) {
        const changed = Buffer.from(body);
        changed[at] = (changed[at] as number) ^ 1;
        const error = await keystore
          .decrypt(["encryption-key", 1], `cs1.${changed.toString("base64url")}`)
          .catch((e) => e);
        expect(error).toBeInstanceOf(DecryptionError);
        expect(error.code).toBe("decryption-failed");
      }
      for (const other of [
        ["encryption-key", 2],
        ["encryption-key", "1"],
        ["never-used", 1],
      ] as Identity[]) {
        const error = await keystore.decrypt(other, text).catch((e) => e);
        expect(error).toBeInstanceOf(DecryptionError);
        expect(error.code).toBe("decryption-failed");
      }
      for (const bad of [
        "",
        "avd2dlg3g93fm1osu",
        "cs2.AAAA",
        `cs1.${body.subarray(0, 20).toString("base64url")}`,
        "cs1.!!",
      ]) {
        await expect(keystore.decrypt(["encryption-key", 1], bad)).rejects.toMatchObject({
          name: "DecryptionError",
          code: "malformed-ciphertext",
        });
      }
    });

    it("master-key rotation re-wraps every key: values stay decryptable with the new master key only", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const texts = [];
      for (let i = 1; i <= 5; i++) texts.push(await keystore.encrypt(["r", i], `value ${i}`));
      await keystore.expire(["r", 5]);
      const next = randomBytes(32);
      expect(await keystore.rotateMasterKey(next)).toEqual({ rewrapped: 4, scrubbed: true });
      // The master key is never shown, not even by a debugger's inspection.
      const shown = inspect(keystore, { depth: 6, showHidden: true });
      for (const key of [Buffer.from(MASTER, "base64"), next]) {
        expect(shown).not.toContain(
          key
            .subarray(0, 8)
            .toString("hex")
            .replace(/(..)(?!$)/g, "$1 "),
        );
        expect(shown).not.toContain(key.toString("base64"));
      }
      for (let i = 1; i <= 4; i++) expect(await keystore.decrypt(["r", i], texts[i - 1] as string)).toBe(`value ${i}`);
      expect(await keystore.decrypt(["r", 5], texts[4] as string)).toBe(REDACTED);
      const withNew = openKeystore(store, { masterKey: next.toString("hex") });
      expect(await withNew.decrypt(["r", 1], texts[0] as string)).toBe("value 1");
      const withOld = openKeystore(store, { masterKey: MASTER });
      await expect(withOld.decrypt(["r", 1], texts[0] as string)).rejects.toMatchObject({
        name: "DecryptionError",
        code: "master-key-mismatch",
      });
      await expect(withOld.rotateMasterKey(randomBytes(32))).rejects.toBeInstanceOf(DecryptionError);
      expect(await withNew.decrypt(["r", 2], texts[1] as string)).toBe("value 2");
    });

    it("calls on the keystore while it rotates its master key see the old key or the new one, never a mix", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const texts: string[] = [];
      for (let i = 1; i <= 20; i++) texts.push(await keystore.encrypt(["r", i], `value ${i}`));
      for (let round = 0; round < 3; round++) {
        const calls: Promise<unknown>[] = [];
        const rotation = keystore.rotateMasterKey(randomBytes(32));
        for (let i = 1; i <= 20; i++) {
          calls.push(keystore.decrypt(["r", i], texts[i - 1] as string).then((v) => expect(v).toBe(`value ${i}`)));
          // Existing keys and new ones.
          calls.push(keystore.encrypt(["r", i], `again ${i}`));
          calls.push(keystore.encrypt(["new", `${round}-${i}`], `new ${i}`));
        }
        const settled = await Promise.allSettled([rotation, ...calls]);
        expect(settled.filter((s) => s.status === "rejected")).toEqual([]);
      }
      expect(await keystore.decrypt(["r", 7], texts[6] as string)).toBe("value 7");
    });

    it("a keystore with another master key makes no key the store's master key cannot open", async () => {
      const store = await factory.create();
      const right = openKeystore(store, { masterKey: MASTER });
      const text = await right.encrypt(["r", 1], "value 1");
      const wrong = openKeystore(store, { masterKey: randomBytes(32) });
      await expect(wrong.encrypt(["r", 2], "value 2")).rejects.toMatchObject({
        name: "DecryptionError",
        code: "master-key-mismatch",
      });
      expect((await right.keys()).map((k) => k.trigger)).toEqual([["r", 1]]);
      // Every key still opens with one master key, so rotating it succeeds.
      expect(await right.rotateMasterKey(MASTER)).toMatchObject({ rewrapped: 1 });
      expect(await right.decrypt(["r", 1], text)).toBe("value 1");
      // With no live key left, nothing could be locked out: any master key starts anew.
      await right.expire(["r", 1]);
      expect(await wrong.decrypt(["r", 2], await wrong.encrypt(["r", 2], "value 2"))).toBe("value 2");
      await expect(right.encrypt(["r", 3], "value 3")).rejects.toMatchObject({ code: "master-key-mismatch" });
    });

    it("keys made in one millisecond list, and expire when due, in one order on every store", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      const ids = ["z", "a", "m", "b", "B", "_", "-", "0"];
      const due = new Date(Date.now() + 60_000);
      const now = vi.spyOn(Date, "now").mockReturnValue(1_700_000_000_000);
      try {
        for (const id of ids) await keystore.encrypt(["k", id], "v", { expiresAt: due });
      } finally {
        now.mockRestore();
      }
      // Ties are broken by the digest of the trigger, compared by code unit.
      const digest = (id: string) => triggerDigest(encodeIdentity(["k", id]));
      const expected = [...ids].sort((a, b) => (digest(a) < digest(b) ? -1 : 1));
      expect((await keystore.keys()).map((k) => k.trigger[1])).toEqual(expected);
      const expired = await keystore.expireDue(new Date(due.getTime() + 1));
      expect(expired.effects.map((e) => e.effect.trigger[1])).toEqual(expected);
    });

    it("two keystores creating one trigger's key at once end with one key", async () => {
      const store = await factory.create();
      const a = openKeystore(store, { masterKey: MASTER });
      const b = openKeystore(store, { masterKey: MASTER });
      const texts = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).encrypt(["subject", "carol"], i)),
      );
      expect(await a.keys()).toHaveLength(1);
      for (const [i, text] of texts.entries()) expect(await b.decrypt(["subject", "carol"], text)).toBe(i);
    });

    it.skipIf(!factory.shared)(
      "two processes making the keys of the same triggers at once end with one key per trigger",
      async () => {
        const store = await factory.create();
        const url = factory.lastUrl as string;
        const start = String(Date.now() + 1500);
        const children = ["a", "b"].map((who) => startChild("key-maker.ts", [url, MASTER, "20", start, who]));
        for (const child of children) expect((await child.exited).code).toBe(0);
        const keystore = openKeystore(store, { masterKey: MASTER });
        expect(await keystore.keys()).toHaveLength(20);
        for (const [n, child] of children.entries()) {
          const values = child.lines
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as { i: number; text: string });
          expect(values).toHaveLength(20);
          for (const { i, text } of values) {
            expect(await keystore.decrypt(["subject", i], text)).toBe(`${n === 0 ? "a" : "b"} ${i}`);
          }
        }
      },
    );

    it("bad input is a ValidationError naming the field, and nothing is written", async () => {
      const store = await factory.create();
      const bad = (f: () => unknown, path: string) =>
        expect(Promise.resolve().then(f)).rejects.toMatchObject({ name: "ValidationError", path });
      await bad(() => openKeystore(store, { masterKey: randomBytes(31) }), "options.masterKey");
      await bad(() => openKeystore(store, { masterKey: "00".repeat(33) }), "options.masterKey");
      await bad(() => openKeystore(store, { masterKey: "not a key" }), "options.masterKey");
      await bad(() => openKeystore(store, { masterKey: 42 as unknown as string }), "options.masterKey");
      await bad(() => openKeystore(store, { mastrKey: MASTER } as never), "options.mastrKey");
      await bad(() => openKeystore({} as Store), "store");
      const keystore = openKeystore(store, { masterKey: MASTER });
      await bad(() => keystore.encrypt(["", 1], 1), "trigger[0]");
      await bad(() => keystore.encrypt(["k", 1.5], 1), "trigger[1]");
      await bad(() => keystore.encrypt(["k"] as unknown as Identity, 1), "trigger");
      await bad(() => keystore.encrypt(["k", 1], Number.NaN), "value");
      await bad(() => keystore.encrypt(["k", 1], { d: new Date() } as unknown as Json), "value.d");
      // JSON would write a shared array once per place it is in: 2^30 values here.
      let shared: Json = 1;
      for (let i = 0; i < 30; i++) shared = [shared, shared];
      await bad(() => keystore.encrypt(["k", 1], shared), "value");
      await bad(() => keystore.encrypt(["k", 1], { o: Object.assign(Object.create(null), { x: 1 }) }), "value.o");
      await bad(() => keystore.encrypt(["k", 1], 1, { expiresAt: new Date(Number.NaN) }), "options.expiresAt");
      await bad(() => keystore.decrypt(["k", 1], 7 as unknown as string), "text");
      await bad(() => keystore.expire(["k", {} as unknown as number]), "trigger[1]");
      await bad(() => keystore.rotateMasterKey("short"), "masterKey");
      const noMaster = openKeystore(store, { masterKey: undefined });
      if (process.env.COHERENCE_MASTER_KEY === undefined) {
        await bad(() => noMaster.encrypt(["k", 1], 1), "options.masterKey");
      }
      expect(await keystore.keys()).toEqual([]);
      expect(await store.currentSeqNo()).toBe(0);
    });

    it("encrypt refuses a trigger whose key-expired effect would exceed limits.eventBytes; expiring never fails on it", async () => {
      const store = await factory.create({ limits: { eventBytes: 1000 } });
      const keystore = openKeystore(store, { masterKey: MASTER });
      const named = openKeystore(store, { masterKey: MASTER, source: "s".repeat(200) });
      // Measured with the keystore's own source: 1,113 bytes, and 1,055 with the longer source.
      for (const [ks, id] of [
        [keystore, "x".repeat(1000)],
        [named, "x".repeat(750)],
      ] as const) {
        await expect(ks.encrypt(["k", id], 1)).rejects.toMatchObject({
          name: "ValidationError",
          code: "too-large",
          path: "trigger",
        });
      }
      expect(await keystore.keys()).toEqual([]);
      // 963 bytes with its own source: it fits; the keystore with the longer source expires it all the same.
      const text = await keystore.encrypt(["k", "x".repeat(850)], 1);
      expect((await named.expire(["k", "x".repeat(850)])).result).toBe("expired");
      expect(await keystore.decrypt(["k", "x".repeat(850)], text)).toBe(REDACTED);
    });

    // A store of the process cannot be opened twice, with other limits.
    it.skipIf(!factory.shared)(
      "expire and expireDue expire a key made by a store with larger limits.eventBytes, its effect beyond this store's",
      async () => {
        const store = await factory.create({ limits: { eventBytes: 1000 } });
        const keystore = openKeystore(store, { masterKey: MASTER });
        const larger = openStore(factory.lastUrl as string, { limits: { eventBytes: 10_000 } });
        try {
          const past = new Date(Date.now() - 1000);
          const made = openKeystore(larger, { masterKey: MASTER });
          const text = await made.encrypt(["k", "y".repeat(2000)], 1, { expiresAt: past });
          await made.encrypt(["k", "z".repeat(2000)], 2);
          await keystore.encrypt(["k", "short"], 1, { expiresAt: new Date(past.getTime() + 1) });
          const { effects } = await keystore.expireDue();
          expect(effects.map((e) => (e.effect.trigger[1] as string).slice(0, 5))).toEqual(["yyyyy", "short"]);
          expect(await keystore.decrypt(["k", "y".repeat(2000)], text)).toBe(REDACTED);
          expect((await keystore.expire(["k", "z".repeat(2000)])).result).toBe("expired");
          expect(await store.currentSeqNo()).toBe(3);
        } finally {
          await larger.close();
        }
      },
    );

    it("a keystore on a closed store rejects with StoreClosedError", async () => {
      const store = await factory.create();
      const keystore = openKeystore(store, { masterKey: MASTER });
      await store.close();
      await expect(keystore.encrypt(["k", 1], 1)).rejects.toBeInstanceOf(StoreClosedError);
      await expect(keystore.expire(["k", 1])).rejects.toBeInstanceOf(StoreClosedError);
      await expect(keystore.keys()).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
