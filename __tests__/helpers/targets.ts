/**
 * The Redis deployments and clients the behaviour suites run against ("one suite, several targets"):
 * every supported client (ioredis, node-redis) on every shared deployment started by global-setup
 * (a single server, a 3-master Redis Cluster; a Sentinel group for the suites that take
 * {@link SENTINEL_TARGETS} too). Each target hands out the client the app passes to
 * the package, an ioredis client on the same deployment for looking at keys, and test files take a
 * unique key prefix so they never see each other's data.
 */
import { randomUUID } from 'node:crypto';
import Redis, { Cluster } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import type { SessionManagerOptions } from '../../lib';

/** The Redis client libraries the package supports. */
export type ClientName = 'ioredis' | 'node-redis';

/** A node-redis client from createClient(), as the tests create them. */
export type NodeRedisClient = ReturnType<typeof createClient>;

/** A node-redis client, Cluster or Sentinel, as the tests create them. */
export type NodeRedis = NodeRedisClient | ReturnType<typeof createCluster> | ReturnType<typeof createSentinel>;

/** The shared deployments global-setup starts. */
export type Deployment = 'single' | 'cluster' | 'sentinel';

/** Any client an app may pass as `redis`. */
export type AppRedis = Redis | Cluster | NodeRedis;

/** One client library on one deployment. */
export interface Target {
  /** E.g. `single Redis, node-redis`. */
  readonly name: string;
  readonly client: ClientName;
  readonly deployment: Deployment;
  /** Manager options this target adds under the suite's own (e.g. `{ localCache: true }`); none for most. */
  readonly options?: Readonly<Partial<SessionManagerOptions>>;
  /**
   * A new client the test owns, for the app: ioredis connects at once; node-redis is handed over
   * unconnected, so the package connects it (close it with {@link closeClient}).
   */
  connect(): AppRedis;
  /** A new ioredis client on the same deployment, to look at keys (quit it in afterAll). */
  ioredis(): Redis | Cluster;
}

function singlePort(): number {
  const port = Number(process.env.ESS_TEST_REDIS_PORT);
  if (!port) throw new Error('ESS_TEST_REDIS_PORT is not set: run the tests through jest (npm test), whose global setup starts Redis.');
  return port;
}

function clusterPorts(): number[] {
  const ports = (process.env.ESS_TEST_CLUSTER_PORTS ?? '').split(',').filter(Boolean).map(Number);
  if (ports.length === 0) throw new Error('ESS_TEST_CLUSTER_PORTS is not set: run the tests through jest (npm test), whose global setup starts the cluster.');
  return ports;
}

function sentinelGroup(): { ports: number[]; name: string } {
  const ports = (process.env.ESS_TEST_SENTINEL_PORTS ?? '').split(',').filter(Boolean).map(Number);
  const name = process.env.ESS_TEST_SENTINEL_NAME;
  if (ports.length === 0 || !name) throw new Error('ESS_TEST_SENTINEL_PORTS is not set: run the tests through jest (npm test), whose global setup starts the Sentinel group.');
  return { ports, name };
}

/** A node-redis client (Cluster, Sentinel) on the shared deployment; errors are expected in fault tests and only counted by them. */
export function nodeRedisOn(deployment: Deployment): NodeRedis {
  let client: NodeRedis;
  if (deployment === 'single') client = createClient({ socket: { host: '127.0.0.1', port: singlePort() } });
  else if (deployment === 'cluster') client = createCluster({ rootNodes: clusterPorts().map((port) => ({ socket: { host: '127.0.0.1', port } })) });
  else {
    const { ports, name } = sentinelGroup();
    client = createSentinel({ name, sentinelRootNodes: ports.map((port) => ({ host: '127.0.0.1', port })) });
  }
  client.on('error', () => undefined);
  return client;
}

/** An ioredis client (Cluster, Sentinel-managed client) on the shared deployment. */
export function ioredisOn(deployment: Deployment): Redis | Cluster {
  if (deployment === 'single') return new Redis({ host: '127.0.0.1', port: singlePort() });
  if (deployment === 'cluster') return new Cluster(clusterPorts().map((port) => ({ host: '127.0.0.1', port })));
  const { ports, name } = sentinelGroup();
  return new Redis({ sentinels: ports.map((port) => ({ host: '127.0.0.1', port })), name });
}

const DEPLOYMENT_NAMES: Record<Deployment, string> = { single: 'single Redis', cluster: 'Redis Cluster', sentinel: 'Sentinel' };

function target(client: ClientName, deployment: Deployment): Target {
  return {
    name: `${DEPLOYMENT_NAMES[deployment]}, ${client}`,
    client,
    deployment,
    connect: () => (client === 'ioredis' ? ioredisOn(deployment) : nodeRedisOn(deployment)),
    ioredis: () => ioredisOn(deployment),
  };
}

/** The oldest-peers rerun (jest.oldest-peers.config.js) maps Express and ioredis only: it runs the ioredis targets. */
export const OLDEST_PEERS = (globalThis as { ESS_IOREDIS_MAJOR?: number }).ESS_IOREDIS_MAJOR === 5;

/** `targets` as this run takes them: all of them, or on the oldest-peers rerun the ioredis ones. */
export function forThisRun(targets: Target[]): Target[] {
  return OLDEST_PEERS ? targets.filter((t) => t.client === 'ioredis') : targets;
}

/**
 * Every client on every deployment (the adapter contract and the suites whose behaviour depends on the
 * client); the first is ioredis on a single Redis, the second ioredis on the Cluster.
 */
export const TARGETS: Target[] = forThisRun([
  target('ioredis', 'single'),
  target('ioredis', 'cluster'),
  target('node-redis', 'single'),
  target('node-redis', 'cluster'),
]);

/**
 * Both clients on the shared Sentinel group (`new Redis({ sentinels, name })`, `createSentinel`): the
 * adapter contract and the live notices add these to {@link TARGETS}.
 */
export const SENTINEL_TARGETS: Target[] = forThisRun([target('ioredis', 'sentinel'), target('node-redis', 'sentinel')]);

/**
 * The local cache's variants: each client on the single server with `{ localCache: true }` (the package
 * refuses it on a Cluster). The behaviour suites add them to {@link TARGETS}; a case that needs
 * `touchAfter: 0` (refused with localCache) or counts Redis round trips says what it does on these
 * targets. The local cache's own behaviour (invalidation from other processes, expiry, eviction,
 * restarts, the read barrier) is tested in local-cache*.test.ts.
 */
export const CACHED_TARGETS: Target[] = [
  { ...target('ioredis', 'single'), name: 'single Redis, ioredis, localCache', options: { localCache: true } },
  { ...target('node-redis', 'single'), name: 'single Redis, node-redis, localCache', options: { localCache: true } },
];

/**
 * Where a suite whose behaviour does not depend on the client or the deployment runs (cookies, data
 * limits, user ids, hardening, step-up, touchAfter, expiry, devices...): ioredis on the single server,
 * and the same with the local cache, which changes the request path, not the client. What does depend on
 * the client or the deployment (the adapter's operations, its connection states, the subscriber, the
 * sign-in/displace/resolve/logout basics) is __tests__/clients/adapter-contract.test.ts, on every target.
 */
export const BEHAVIOUR_TARGETS: Target[] = [TARGETS[0]!, CACHED_TARGETS[0]!];

/** True for a target whose manager keeps a local cache. */
export function isCached(target: Target): boolean {
  return Boolean(target.options?.localCache);
}

/** Every supported client library, for suites that start their own servers (ioredis only on the oldest-peers rerun). */
export const CLIENTS: ClientName[] = OLDEST_PEERS ? ['ioredis'] : ['ioredis', 'node-redis'];

/**
 * A client of `library` for the server at `port` that retries every `retryMs` while it is down, as
 * the fault suites need; node-redis is handed over unconnected and errors are swallowed on both.
 */
export function clientOn(library: ClientName, port: number, retryMs = 100): AppRedis {
  if (library === 'ioredis') {
    const redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => retryMs });
    redis.on('error', () => undefined);
    return redis;
  }
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => retryMs } });
  client.on('error', () => undefined);
  return client;
}

/** True for a node-redis client (they have `isOpen`; ioredis clients have `status`). */
export function isNodeRedisClient(client: AppRedis): client is NodeRedis {
  return typeof (client as NodeRedis).isOpen === 'boolean';
}

/** Closes a client of either library, whether or not it ever connected. */
export async function closeClient(client: AppRedis): Promise<void> {
  if (!isNodeRedisClient(client)) {
    client.disconnect();
    return;
  }
  if (client.isOpen) await client.destroy(); // a Sentinel's destroy() is a promise
}

/** A key prefix no other test file uses. */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`;
}
