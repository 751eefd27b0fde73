/**
 * The ioredis adapter: a `Redis` (plain or through Sentinel) or a `Cluster`. A command is only
 * handed to ioredis once its connection is ready: ioredis would otherwise queue it and run it after
 * reconnecting, long after the request was answered 503.
 */
import type { Cluster, Redis } from 'ioredis';
import type { ConnectionState, RedisAdapter } from './adapter';
import { sendTogether } from './ioredis-send';
import { ioredisSubscriber } from './ioredis-subscriber';
import { slotOf } from './slot';
import type { TrackingTarget } from './tracking';

const OFFLINE = new Set(['reconnecting', 'close', 'end', 'disconnecting']);

/** True when `client` looks like an ioredis `Redis` or `Cluster`. */
export function isIoredis(client: unknown): client is Redis | Cluster {
  const candidate = client as Partial<Redis> | null;
  return !!candidate && typeof candidate.evalsha === 'function' && typeof candidate.status === 'string';
}

/** Wraps an ioredis client the app owns. */
export function ioredisAdapter(redis: Redis | Cluster): RedisAdapter {
  const isCluster = typeof (redis as Cluster).nodes === 'function' && (redis as { isCluster?: boolean }).isCluster === true;
  let ready: Promise<void> | null = null;

  /** The master connection serving `key` (a Cluster keeps one Redis per node; WAIT must use it). */
  function nodeFor(key: string): Redis {
    if (!isCluster) return redis as Redis;
    const cluster = redis as Cluster;
    const owner = (cluster as unknown as { slots: string[][] }).slots[slotOf(key)]?.[0];
    const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
    if (!node) throw new Error('no master owns the slot of the key right now');
    return node;
  }

  return {
    library: 'ioredis',
    isCluster,
    state(): ConnectionState {
      const status = redis.status;
      if (status === 'ready') return 'ready';
      // A reconnect attempt in progress is still an outage (fail fast); only the first connect is waited for.
      if (status === 'connecting' && ((redis as unknown as { retryAttempts?: number }).retryAttempts ?? 0) > 0) return 'offline';
      return OFFLINE.has(status) ? 'offline' : 'connecting';
    },
    whenReady() {
      if (redis.status === 'wait') redis.connect().catch(() => undefined);
      return (ready ??= new Promise<void>((resolve) => {
        redis.once('ready', () => {
          ready = null;
          resolve();
        });
      }));
    },
    evalsha: (sha, keys, args) => redis.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => redis.eval(source, keys.length, ...keys, ...args),
    pipeline: sendTogether(redis, isCluster),
    async wait(routingKey, replicas, timeoutMs) {
      return Number(await nodeFor(routingKey).call('WAIT', String(replicas), String(timeoutMs)));
    },
    trackingTarget: isCluster ? undefined : () => trackingTarget(redis as Redis),
    async *scan(pattern, count) {
      const nodes = isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
          cursor = next;
          if (keys.length > 0) yield keys;
        } while (cursor !== '0');
      }
    },
    subscriber: (handlers) => ioredisSubscriber(redis, isCluster, handlers),
  };
}

/** The master a plain or Sentinel-managed client is connected to (its socket's peer), with its login and database. */
function trackingTarget(redis: Redis): TrackingTarget | null {
  const stream = redis.stream;
  if (redis.status !== 'ready' || !stream) return null;
  const { username, password, tls, db, keyPrefix, path } = redis.options;
  const where = path ? { path } : { host: stream.remoteAddress, port: stream.remotePort };
  return { ...where, username, password, tls: tls ?? null, db, keyPrefix };
}
