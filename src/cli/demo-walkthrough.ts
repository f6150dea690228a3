import type { NewEvent, Patch } from "../index.js";

/** One rebase of the walkthrough: what a newcomer reads, and what is sent. */
export interface DemoRebase {
  readonly title: string;
  /** Why this step matters, in one line. */
  readonly why: string;
  readonly base: number;
  readonly resolved?: readonly number[];
  readonly history: readonly NewEvent[];
}

function book(actor: string, reason: string, title: string, patch: Patch): NewEvent {
  return {
    timestamp: new Date(),
    source: "bookstore",
    action: { reason, actor: ["user", actor], aggregate: ["book", title], patch },
  };
}

function receipt(id: number, no: string, total: number): NewEvent {
  return {
    timestamp: new Date(),
    source: "bookstore",
    action: {
      reason: "payment",
      actor: ["user", "alice"],
      aggregate: ["receipt", id],
      patch: { assoc: { no, total } },
    },
    triggers: [["encryption-key", id]],
  };
}

const gibson = (genre: string): Patch => ({ assoc: { author: "William Gibson", genre } });

/**
 * The session of SPEC section 6 (the seed README's walkthrough), step by
 * step. Built on each call so that timestamps are the time of the run.
 */
export function walkthrough(): DemoRebase[] {
  return [
    {
      title: "Alice adds two books",
      why: "An empty store: Alice has seen nothing, so she rebases on 1.",
      base: 1,
      history: [
        book("alice", "create", "Neuromancer", gibson("SciFi")),
        book("alice", "create", "Count Zero", gibson("Cyberpunk")),
      ],
    },
    {
      title: "Bob adds two books, unaware of Alice",
      why: "Bob also read the empty store (base 1), but Alice changed Neuromancer since.",
      base: 1,
      history: [
        book("bob", "create", "Mona Lisa Overdrive", gibson("Cyberpunk")),
        book("bob", "create", "Neuromancer", gibson("Cyberpunk")),
      ],
    },
    {
      title: "Bob resolves the conflict",
      why: "He read Alice's seqNo 1, keeps her book and changes only the genre: resolved [1].",
      base: 1,
      resolved: [1],
      history: [
        book("bob", "create", "Mona Lisa Overdrive", gibson("Cyberpunk")),
        book("bob", "update", "Neuromancer", { assoc: { genre: "Cyberpunk" } }),
      ],
    },
    {
      title: "Alice stores two receipts, each linked to an encryption key",
      why: "A trigger links each receipt to its own key. Here the card numbers stay in clear; the keystore (README, Crypto-shredding) encrypts them under those keys.",
      base: 2,
      history: [receipt(1, "avd2dlg3g93fm1osu", 100), receipt(2, "kepf62djsdk8fw21", 200)],
    },
    {
      title: "The key of receipt 1 expires",
      why: "An effect on the trigger, as the keystore appends when it shreds a key: readers must forget what the key opened.",
      base: 6,
      history: [
        {
          timestamp: new Date(),
          source: "keystore",
          effect: { reason: "key-expired", trigger: ["encryption-key", 1] },
        },
      ],
    },
  ];
}
