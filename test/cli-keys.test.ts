import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRedacted, openKeystore, openStore } from "../src/index.js";
import { type BuiltCli, buildCli } from "./support/cli-run.js";

let root: string;
let cli: BuiltCli | undefined;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "coherence-cli-keys-"));
  cli = await buildCli();
});
afterAll(() => {
  cli?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const MASTER = randomBytes(32).toString("hex");
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

describe("coherence keys: list, expire, expire-due", () => {
  it("lists keys without key material, expires one (exit 3 the second time), expires those due", async () => {
    const url = `sqlite:${join(root, "keys.db")}`;
    const store = openStore(url);
    await store.initSchema();
    const keystore = openKeystore(store, { masterKey: MASTER });
    const no1 = await keystore.encrypt(["encryption-key", 1], "avd2dlg3g93fm1osu");
    await keystore.encrypt(["encryption-key", 2], "kepf62djsdk8fw21", { expiresAt: new Date("2030-01-01T00:00:00Z") });
    await keystore.encrypt(["subject", "1"], "x", { expiresAt: new Date("2040-01-01T00:00:00Z") });
    await store.close();
    const run = (args: string[]) => cli!.run(["--db", url, "keys", ...args], { cwd: root });

    const list = await run(["list"]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    expect(lines(list.stdout).map((l) => JSON.parse(l))).toEqual([
      { trigger: ["encryption-key", 1], createdAt: expect.any(String), expiresAt: null, expiredAt: null },
      {
        trigger: ["encryption-key", 2],
        createdAt: expect.any(String),
        expiresAt: "2030-01-01T00:00:00.000Z",
        expiredAt: null,
      },
      {
        trigger: ["subject", "1"],
        createdAt: expect.any(String),
        expiresAt: "2040-01-01T00:00:00.000Z",
        expiredAt: null,
      },
    ]);
    expect(list.stdout).not.toContain("kw1.");

    const expired = await run(["expire", "encryption-key:1"]);
    expect(expired.code).toBe(0);
    expect(JSON.parse(expired.stdout)).toMatchObject({
      result: "expired",
      scrubbed: true,
      effect: { seqNo: 1, source: "keystore", effect: { reason: "key-expired", trigger: ["encryption-key", 1] } },
    });
    const again = await run(["expire", "encryption-key:1"]);
    expect(again).toMatchObject({ code: 3, stdout: "" });
    expect(lines(again.stderr)).toHaveLength(1);

    const due = await run(["expire-due", "--now", "2035-06-01T00:00:00Z"]);
    expect(due.code).toBe(0);
    expect(JSON.parse(due.stdout)).toMatchObject({
      effects: [{ seqNo: 2, effect: { reason: "key-expired", trigger: ["encryption-key", 2] } }],
      scrubbed: true,
    });

    for (const args of [
      ["expire", "no-colon"],
      ["expire", ":1"],
      ["expire-due", "--now", "tomorrow"],
    ]) {
      const bad = await run(args);
      expect(bad.code, args.join(" ")).toBe(2);
      expect(lines(bad.stderr)).toHaveLength(1);
    }

    const reopened = openStore(url);
    try {
      expect(await reopened.currentSeqNo()).toBe(2);
      const after = openKeystore(reopened, { masterKey: MASTER });
      expect(isRedacted(await after.decrypt(["encryption-key", 1], no1))).toBe(true);
      expect((await after.keys()).filter((k) => k.expiredAt === null).map((k) => k.trigger)).toEqual([
        ["subject", "1"],
      ]);
    } finally {
      await reopened.close();
    }
  });
});

describe("coherence keys: the commands that need no master key", () => {
  it("list and expire work with a malformed COHERENCE_MASTER_KEY in the environment; encrypting still reports it", async () => {
    const url = `sqlite:${join(root, "no-master.db")}`;
    const store = openStore(url);
    await store.initSchema();
    await openKeystore(store, { masterKey: MASTER }).encrypt(["encryption-key", 1], "x");
    const env = { COHERENCE_MASTER_KEY: "not a key" };
    const run = (args: string[]) => cli!.run(["--db", url, "keys", ...args], { cwd: root, env });
    expect(await run(["list"])).toMatchObject({ code: 0, stderr: "" });
    expect(await run(["expire", "encryption-key:1"])).toMatchObject({ code: 0, stderr: "" });

    const saved = process.env.COHERENCE_MASTER_KEY;
    process.env.COHERENCE_MASTER_KEY = "not a key";
    try {
      await expect(openKeystore(store).encrypt(["encryption-key", 2], "y")).rejects.toMatchObject({
        name: "ValidationError",
        path: "COHERENCE_MASTER_KEY",
      });
    } finally {
      if (saved === undefined) delete process.env.COHERENCE_MASTER_KEY;
      else process.env.COHERENCE_MASTER_KEY = saved;
      await store.close();
    }
  });
});
