/**
 * Which Redis client the app passed: the public shapes of the supported clients (described by the
 * members the package relies on, so an app needs the types of only the client it installed) and
 * `adapterFor()`, which wraps the client in its adapter or refuses anything else.
 */
import type { RedisAdapter } from './adapter';
import { ioredisAdapter, isIoredis } from './ioredis';
import { isNodeRedis, nodeRedisAdapter } from './node-redis';
import { objectKind, shown } from '../shown';

/** An ioredis client: a `Redis` (plain or through Sentinel) or a `Cluster`, ioredis 5 or 6. */
export interface IoredisClient {
  /** The connection status ioredis keeps (`'ready'`, `'reconnecting'`, ...). */
  readonly status: string;
  /** ioredis's EVALSHA. */
  evalsha(...args: never[]): unknown;
}

/** A node-redis v5 client: from `createClient()`, `createCluster()` or `createSentinel()`, connected or not. */
export interface NodeRedisClient {
  /** True once `connect()` was called, until the client is closed. */
  readonly isOpen: boolean;
  /** node-redis's `connect()`; the package calls it once if the first request finds the client never connected. */
  connect(): Promise<unknown>;
  /** node-redis's raw command sender. */
  sendCommand(...args: never[]): Promise<unknown>;
}

/** The wrapped client the app passed; anything that is not a supported client is refused with `fail`. */
export function adapterFor(client: unknown, fail: (message: string) => never): RedisAdapter {
  if (isIoredis(client)) return ioredisAdapter(client);
  if (isNodeRedis(client)) return nodeRedisAdapter(client);
  const got = client === null || typeof client !== 'object' ? shown(client) : objectKind(client);
  return fail(
    '`redis` must be an ioredis client (new Redis(...) or new Cluster(...)) or a node-redis v5 client ' +
      `(createClient(), createCluster() or createSentinel()) that the app owns; received ${got}.`,
  );
}
