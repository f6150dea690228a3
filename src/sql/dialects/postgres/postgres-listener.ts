import type { PostgresClient } from "./postgres-driver.js";

/** The slice of a pg client that listens: notifications arrive as events. */
interface ListeningClient extends PostgresClient {
  on(event: "notification", listener: (message: Notification) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "notification", listener: (message: Notification) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

interface Notification {
  readonly channel: string;
  readonly payload?: string;
}

interface Subscriber {
  readonly onNotify: () => void;
  readonly onError: (error: unknown) => void;
}

/**
 * One LISTEN connection per driver, shared by every follower of the store in
 * this process, held while anyone listens. A notification's payload is the
 * writer's schema, so stores in other schemas of the database do not wake
 * each other. Notifications are a shortcut only: followers keep polling,
 * because behind a transaction-mode pooler LISTEN succeeds and nothing arrives.
 */
export class PostgresListener {
  readonly #subscribers = new Map<string, Set<Subscriber>>();
  #client: ListeningClient | undefined;
  #schema: string | undefined;
  /** The listening client's failures: taken off again when it goes back to the pool, which lends it to others. */
  readonly #onError = (error: Error) => this.#fail(this.mapError(error));
  readonly #onNotification = (message: Notification) => {
    if (message.payload !== this.#schema) return;
    for (const s of this.#subscribers.get(message.channel) ?? []) s.onNotify();
  };
  /** Connecting, LISTEN and UNLISTEN run one after another. */
  #queue: Promise<void> = Promise.resolve();

  /**
   * @param schema the schema the store's own sessions work in, read on one of
   *   them: the listening connection is made with the pool's settings, but not
   *   through its `connect` hooks (a `SET search_path` there), so its own
   *   `current_schema()` may be another. Undefined (or no reader): the
   *   listening connection's own.
   */
  constructor(
    private readonly connect: () => Promise<PostgresClient>,
    private readonly mapError: (error: unknown) => unknown,
    private readonly schema?: () => Promise<string | undefined>,
  ) {}

  subscribe(channel: string, onNotify: () => void, onError: (error: unknown) => void): () => void {
    const subscriber = { onNotify, onError };
    let set = this.#subscribers.get(channel);
    const first = set === undefined;
    if (!set) {
      set = new Set();
      this.#subscribers.set(channel, set);
    }
    set.add(subscriber);
    if (first) this.#enqueue(async (client) => void (await client.query({ text: `listen "${quote(channel)}"` })));
    return () => {
      // After a failure cleared the map, `set` may no longer be the channel's: a later subscriber's is left alone.
      if (!set.delete(subscriber) || set.size > 0 || this.#subscribers.get(channel) !== set) return;
      this.#subscribers.delete(channel);
      this.#enqueue(async (client) => {
        if (!this.#subscribers.has(channel)) await client.query({ text: `unlisten "${quote(channel)}"` });
        if (this.#subscribers.size === 0) this.#drop(false);
      });
    };
  }

  #enqueue(step: (client: ListeningClient) => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      try {
        await step(await this.#connected());
      } catch (error) {
        this.#fail(this.mapError(error));
      }
    });
  }

  async #connected(): Promise<ListeningClient> {
    if (this.#client) return this.#client;
    const client = (await this.connect()) as ListeningClient;
    client.on("error", this.#onError);
    client.on("notification", this.#onNotification);
    this.#client = client;
    this.#schema = await this.schema?.();
    if (this.#schema === undefined) {
      const { rows } = await client.query({ text: "select current_schema() as schema" });
      this.#schema = (rows[0] as { schema: string } | undefined)?.schema;
    }
    return client;
  }

  /** Tells every subscriber, and starts over with a new connection at the next subscription. */
  #fail(error: unknown): void {
    this.#drop(true);
    const all = [...this.#subscribers.values()].flatMap((set) => [...set]);
    this.#subscribers.clear();
    for (const s of all) s.onError(error);
  }

  #drop(broken: boolean): void {
    const client = this.#client;
    this.#client = undefined;
    client?.off("error", this.#onError);
    client?.off("notification", this.#onNotification);
    client?.release(broken);
  }

  /** Ends listening; called when the store closes. */
  async close(): Promise<void> {
    this.#subscribers.clear();
    await this.#queue;
    // Destroyed rather than returned to the pool: it may still be listening.
    this.#drop(true);
  }
}

/** Channel names are checked relation names; doubling quotes keeps any other text an identifier. */
function quote(name: string): string {
  return name.replace(/"/g, '""');
}
