/**
 * Sharded pub/sub for ioredis: one `duplicate()` of the app's `Redis` (plain or Sentinel), or on a
 * `Cluster` one connection per master, each channel subscribed on the master that owns its slot.
 * Channels are re-subscribed by this module after every reconnect (not by ioredis), so it knows when
 * the gap ended and can report it; on a Cluster, channels whose slot moved follow it to the new master
 * (after a lost connection, a `sunsubscribe` pushed by a demoted master, or a slot refresh of the app's
 * client), and the slot map is asked again until every channel is on a connected master.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Subscriber, SubscriberHandlers } from './adapter';
import { slotOf } from './slot';

/** Options of every subscriber connection: reconnect forever (a Cluster's node connections do not), re-subscribe ourselves. */
const SUBSCRIBER_OPTIONS: RedisOptions = {
  autoResubscribe: false,
  lazyConnect: true,
  enableOfflineQueue: true,
  maxRetriesPerRequest: null,
  retryStrategy: (times: number) => Math.min(50 * times, 1000),
};

/** One subscriber connection and the channels it carries. */
interface Connection {
  readonly channels: Set<string>;
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** True while the connection is up. */
  ready(): boolean;
  close(): void;
}

/** `onTrouble`: the connection dropped, or Redis unsubscribed its channels because their slot moved. */
function connection(client: Redis, handlers: SubscriberHandlers, onTrouble: () => void): Connection {
  const channels = new Set<string>();
  let lost = false;
  // Errors are retried by reconnecting; the app's own client reports Redis trouble to the app.
  client.on('error', () => undefined);
  client.on('smessage', (channel: string, message: string) => {
    if (channels.has(channel)) handlers.message(channel, message);
  });
  client.on('close', () => {
    if (channels.size > 0 && !lost) {
      lost = true;
      onTrouble();
    }
  });
  // ioredis 6 reports a `sunsubscribe` Redis pushed unasked (the slot moved, e.g. a manual failover
  // demoted this master) as 'moved'.
  client.on('moved', () => {
    if (channels.size > 0) onTrouble();
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    const again = [...channels];
    // One channel a command: on a Cluster node, channels of different slots cannot share one SSUBSCRIBE.
    Promise.all(again.map((channel) => client.ssubscribe(channel))).then(
      () => handlers.resubscribed(again.filter((channel) => channels.has(channel))),
      () => undefined, // the connection dropped again: the next 'ready' retries
    );
  });
  return {
    channels,
    async subscribe(channel) {
      channels.add(channel);
      await client.ssubscribe(channel);
    },
    async unsubscribe(channel) {
      if (!channels.delete(channel)) return;
      if (client.status === 'ready') await client.sunsubscribe(channel).catch(() => undefined);
    },
    ready: () => client.status === 'ready',
    close: () => client.disconnect(),
  };
}

/** Throws a clear error when this ioredis has no sharded pub/sub (added in ioredis 5.1). */
function checkSharded(client: Redis | Cluster): void {
  if (typeof (client as Redis).ssubscribe !== 'function') {
    throw new Error('express-single-session: liveEvents() needs sharded pub/sub (SSUBSCRIBE), which this ioredis version lacks; upgrade ioredis to 5.1 or newer.');
  }
}

/** A subscriber for a plain or Sentinel `Redis`: one duplicate connection, opened on the first subscribe. */
function singleSubscriber(redis: Redis, handlers: SubscriberHandlers): Subscriber {
  checkSharded(redis);
  let conn: Connection | null = null;
  let closed = false;
  const open = (): Connection => (conn ??= connection(redis.duplicate(SUBSCRIBER_OPTIONS), handlers, () => undefined));
  return {
    subscribe: (channel) => (closed ? Promise.reject(new Error('the subscriber is closed')) : open().subscribe(channel)),
    unsubscribe: async (channel) => conn?.unsubscribe(channel),
    connections: () => (conn ? 1 : 0),
    close() {
      closed = true;
      conn?.close();
      conn = null;
    },
  };
}

/** A subscriber for a `Cluster`: one connection per master that owns a subscribed channel's slot. */
function clusterSubscriber(cluster: Cluster, handlers: SubscriberHandlers): Subscriber {
  checkSharded(cluster);
  const conns = new Map<string, Connection>();
  /** Each subscribed channel and the master (host:port) it is subscribed on. */
  const home = new Map<string, string>();
  let closed = false;
  let reconciling: NodeJS.Timeout | null = null;

  const ownerOf = (channel: string): string | undefined =>
    (cluster as unknown as { slots: string[][] }).slots[slotOf(channel)]?.[0];

  function connFor(nodeKey: string): Connection {
    let conn = conns.get(nodeKey);
    if (conn) return conn;
    const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
    const separator = nodeKey.lastIndexOf(':');
    const client = node
      ? node.duplicate(SUBSCRIBER_OPTIONS)
      : (cluster.nodes()[0]?.duplicate({ ...SUBSCRIBER_OPTIONS, host: nodeKey.slice(0, separator), port: Number(nodeKey.slice(separator + 1)) }));
    if (!client) throw new Error('no Cluster node is known yet');
    conn = connection(client, handlers, scheduleReconcile);
    conns.set(nodeKey, conn);
    return conn;
  }

  /**
   * After a lost connection or a moved slot: refresh the slot map and move channels whose slot has a new
   * master; again every 500 ms while a channel's master is not connected (a killed master's replica is
   * promoted only after the cluster's node timeout).
   */
  function scheduleReconcile(): void {
    if (reconciling || closed) return;
    reconciling = setTimeout(() => {
      cluster.refreshSlotsCache(() => {
        reconciling = null;
        reconcile();
      });
    }, 500);
    reconciling.unref();
  }

  function reconcile(): void {
    if (closed) return;
    const moved: string[] = [];
    for (const [channel, nodeKey] of home) {
      const owner = ownerOf(channel);
      if (!owner || owner === nodeKey) continue;
      conns.get(nodeKey)?.unsubscribe(channel).catch(() => undefined);
      home.set(channel, owner);
      moved.push(channel);
    }
    for (const [nodeKey, conn] of conns) {
      if (conn.channels.size === 0 && ![...home.values()].includes(nodeKey)) {
        conn.close();
        conns.delete(nodeKey);
      }
    }
    const waiting = [...new Set(home.values())].some((nodeKey) => !conns.get(nodeKey)?.ready());
    if (waiting) scheduleReconcile();
    if (moved.length === 0) return;
    Promise.all(moved.map((channel) => connFor(home.get(channel)!).subscribe(channel))).then(
      () => handlers.resubscribed(moved.filter((channel) => home.has(channel))),
      () => scheduleReconcile(),
    );
  }

  // The app's client found the slot map changed (a MOVED reply, a lost node): follow it.
  const onRefresh = (): void => {
    if (!closed && home.size > 0) reconcile();
  };
  cluster.on('refresh', onRefresh);

  return {
    async subscribe(channel) {
      if (closed) throw new Error('the subscriber is closed');
      if (cluster.status === 'wait') cluster.connect().catch(() => undefined);
      if (cluster.status !== 'ready') await new Promise<void>((resolve) => cluster.once('ready', () => resolve()));
      const owner = ownerOf(channel);
      if (!owner) throw new Error('no master owns the slot of the channel right now');
      home.set(channel, owner);
      await connFor(owner).subscribe(channel);
    },
    async unsubscribe(channel) {
      const nodeKey = home.get(channel);
      home.delete(channel);
      if (nodeKey) await conns.get(nodeKey)?.unsubscribe(channel);
    },
    connections: () => conns.size,
    close() {
      closed = true;
      cluster.off('refresh', onRefresh);
      if (reconciling) clearTimeout(reconciling);
      for (const conn of conns.values()) conn.close();
      conns.clear();
      home.clear();
    },
  };
}

/** The subscriber of an ioredis client; it closes itself when the app's client ends. */
export function ioredisSubscriber(redis: Redis | Cluster, isCluster: boolean, handlers: SubscriberHandlers): Subscriber {
  const subscriber = isCluster ? clusterSubscriber(redis as Cluster, handlers) : singleSubscriber(redis as Redis, handlers);
  redis.once('end', () => subscriber.close());
  return subscriber;
}
