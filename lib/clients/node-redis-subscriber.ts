/**
 * Sharded pub/sub for node-redis: one `duplicate()` of the app's client (plain or Cluster; node-redis
 * routes each SSUBSCRIBE of a Cluster to the master of the channel's slot), opened on the first
 * subscribe. A plain client re-subscribes by itself after a reconnect; its next 'ready' is reported as
 * `resubscribed`, so streams check once for anything published in the gap. A Sentinel client has no
 * duplicate(): its own pub/sub connection (which follows the master) is used, and a master change is
 * reported as `resubscribed`. A Cluster
 * duplicate does not follow a failover by itself, so on any sign of trouble it is replaced by a fresh
 * one that subscribes every channel again (retried every 500 ms), and the channels are reported.
 */
import type { Subscriber, SubscriberHandlers } from './adapter';

/** A node-redis connection that can report events (a Cluster's node clients included). */
interface Emitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** The members of a node-redis client (or Cluster) the subscriber uses. */
interface PubSubClient extends Emitter {
  isOpen: boolean;
  connect(): Promise<unknown>;
  /** Absent on a Sentinel client, which keeps a pub/sub connection of its own. */
  duplicate?(overrides?: object): PubSubClient;
  sSubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  sUnsubscribe(channel: string): Promise<unknown>;
  destroy?(): void;
  close?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
  /** A Cluster's masters, each with its sharded pub/sub connection once one is open. */
  masters?: { pubSub?: { client: Emitter } }[];
}

/** How long after a sign of trouble a Cluster subscriber is replaced (signs come in bursts), and between attempts. */
const FIRST_TRY_MS = 50;
const RETRY_MS = 500;
/** How long one step of a replacement (discovery, then the subscriptions) may take before it is retried. */
const STEP_TIMEOUT_MS = 1000;

function shut(conn: PubSubClient): void {
  if (conn.destroy) conn.destroy();
  else void (conn.close ?? conn.disconnect)?.call(conn).catch(() => undefined);
}

/** `promise`, or a rejection after `ms` (node-redis redials a dead node forever instead of failing). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A subscriber on a duplicate of `app`; closed with `close()` or when the app closes its client or Cluster. */
export function nodeRedisSubscriber(app: unknown, isCluster: boolean, handlers: SubscriberHandlers): Subscriber {
  const client = app as PubSubClient;
  const channels = new Set<string>();
  /** The duplicate whose messages are delivered. */
  let connection: PubSubClient | null = null;
  let opening: Promise<PubSubClient> | null = null;
  /** A Cluster duplicate being built to replace `connection`, and the timer that will start the next one. */
  let candidate: PubSubClient | null = null;
  let retry: NodeJS.Timeout | null = null;
  const watched = new WeakSet<Emitter>();
  let closed = false;
  let lost = false;

  const close = (): void => {
    if (closed) return;
    closed = true;
    if (retry) clearTimeout(retry);
    for (const open of [connection, candidate]) if (open && open !== client) shut(open);
    connection = candidate = null;
  };
  // A client emits 'end' when closed or destroyed; a Cluster emits 'disconnect' instead (only then).
  client.on('end', close);
  client.on('disconnect', close);

  /**
   * A Cluster's channels may have been lost: node-redis 5 keeps redialling a killed master (its duplicate
   * never asks for the new slot map), and when Redis unsubscribes a channel whose master was demoted it
   * drops the channel's listeners ('sharded-channel-moved') without subscribing them anywhere.
   */
  function trouble(delayMs = FIRST_TRY_MS): void {
    if (closed || retry || candidate || channels.size === 0) return;
    retry = setTimeout(() => {
      retry = null;
      void replace();
    }, delayMs);
    retry.unref();
  }

  /** A new duplicate; a Cluster's reports trouble while it is the connection. */
  function duplicate(): PubSubClient {
    // A Cluster duplicate connects only the masters of subscribed channels (no eager dial of a dead one).
    const sub = client.duplicate!(isCluster ? { minimizeConnections: true } : undefined);
    sub.on('error', () => undefined); // it reconnects; the app's own client reports Redis trouble
    if (isCluster) {
      sub.on('node-reconnecting', () => sub === connection && trouble());
      sub.on('sharded-shannel-moved-error', () => sub === connection && trouble());
      return sub;
    }
    sub.on('reconnecting', () => {
      lost = channels.size > 0;
    });
    sub.on('ready', () => {
      if (!lost) return;
      lost = false;
      handlers.resubscribed([...channels]);
    });
    return sub;
  }

  /** SSUBSCRIBE `channel` on `sub`; its messages count only while `sub` is the connection. */
  async function listen(sub: PubSubClient, channel: string): Promise<void> {
    await sub.sSubscribe(channel, (message, from) => {
      if (sub === connection && channels.has(from)) handlers.message(from, message);
    });
    for (const master of sub.masters ?? []) {
      const node = master.pubSub?.client;
      if (!node || watched.has(node)) continue;
      watched.add(node);
      node.on('sharded-channel-moved', () => sub === connection && trouble());
    }
  }

  /** Builds a fresh Cluster duplicate with every channel subscribed, then swaps it in and reports them. */
  async function replace(): Promise<void> {
    const next = (candidate = duplicate());
    // The slot map still names a master that is down (not promoted yet): give up this attempt at once.
    let abort: (err: Error) => void = () => undefined;
    const dropped = new Promise<never>((_, reject) => {
      abort = reject;
    });
    dropped.catch(() => undefined);
    next.on('node-reconnecting', () => abort(new Error('a master of the slot map is unreachable')));
    const step = <T>(work: Promise<T>): Promise<T> => within(Promise.race([work, dropped]), STEP_TIMEOUT_MS);
    try {
      await step(next.connect());
      const done = new Set<string>();
      for (let todo = [...channels]; todo.length > 0; todo = [...channels].filter((c) => !done.has(c))) {
        await step(Promise.all(todo.map((channel) => listen(next, channel))));
        for (const channel of todo) done.add(channel);
      }
      if (closed || candidate !== next) return;
      const old = connection;
      connection = next;
      candidate = null;
      if (old) shut(old);
      for (const channel of done) if (!channels.has(channel)) void next.sUnsubscribe(channel).catch(() => undefined);
      handlers.resubscribed([...channels]);
    } catch {
      if (candidate !== next) return;
      candidate = null;
      shut(next);
      trouble(RETRY_MS);
    }
  }

  /** A Sentinel client's own pub/sub connection moves to a new master by itself; its streams check once after. */
  function useSentinelConnection(): PubSubClient {
    client.on('topology-change', (event) => {
      if ((event as { type?: string } | undefined)?.type === 'MASTER_CHANGE' && channels.size > 0) handlers.resubscribed([...channels]);
    });
    return (connection = client);
  }

  function open(): Promise<PubSubClient> {
    if (connection) return Promise.resolve(connection);
    if (typeof client.duplicate !== 'function') return Promise.resolve(useSentinelConnection());
    return (opening ??= (async () => {
      const sub = duplicate();
      await sub.connect();
      connection = sub;
      opening = null;
      return sub;
    })().catch((err: unknown) => {
      opening = null;
      throw err;
    }));
  }

  return {
    async subscribe(channel) {
      if (closed) throw new Error('the subscriber is closed');
      const sub = await open();
      if (channels.has(channel)) return;
      channels.add(channel);
      await listen(sub, channel);
    },
    async unsubscribe(channel) {
      if (!channels.delete(channel) || !connection) return;
      await connection.sUnsubscribe(channel).catch(() => undefined);
    },
    connections: () => (connection ? 1 : 0),
    close,
  };
}
