/**
 * Chooses the demo's Redis deployment and client library from environment variables and builds the client:
 *   REDIS_URL                                  one server, e.g. redis://127.0.0.1:6379
 *   REDIS_CLUSTER_NODES                        Redis Cluster seeds, e.g. 10.0.0.1:7000,10.0.0.2:7000
 *   REDIS_SENTINELS + REDIS_SENTINEL_NAME      Sentinel addresses and the master name they monitor
 *   REDIS_PASSWORD                             optional; for the data nodes of a Cluster or Sentinel setup
 *   REDIS_CLIENT                               ioredis or node-redis (default: DEFAULT_REDIS_CLIENT)
 * Set at most one of the three deployments (none: `parseRedisEnv` says null and the demo starts its
 * own redis-server). Bad values throw `RedisEnvError` naming the variable. demo-app/redis.ts calls this.
 */
import Redis, { Cluster } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';

/** The client libraries the demo can use. */
export type RedisClientName = 'ioredis' | 'node-redis';

/** The client the demo uses without REDIS_CLIENT: the one the README recommends after measuring. */
export const DEFAULT_REDIS_CLIENT: RedisClientName = 'node-redis';

/** A client the demo built, of either library. */
export type DemoRedisClient =
  | Redis
  | Cluster
  | ReturnType<typeof createClient>
  | ReturnType<typeof createCluster>
  | ReturnType<typeof createSentinel>;

/** A `host:port` address. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** The deployment the environment describes, before any connection is made. */
export type RedisDeployment =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisAddress[]; password?: string }
  | { kind: 'sentinel'; sentinels: RedisAddress[]; name: string; password?: string };

/** A missing, conflicting or malformed Redis variable; `code` is always `INVALID_REDIS_ENV`. */
export class RedisEnvError extends Error {
  readonly code = 'INVALID_REDIS_ENV';
  constructor(message: string) {
    super(`demo-app: ${message}`);
    this.name = 'RedisEnvError';
  }
}

/** Reconnect quickly (at most every 500 ms) so traffic recovers soon after Redis or a failover is back. */
const retryStrategy = (attempt: number): number => Math.min(attempt * 50, 500);

/** True for an ioredis `Redis` or `Cluster` (as opposed to a node-redis client). */
export function isIoredisClient(client: DemoRedisClient): client is Redis | Cluster {
  return client instanceof Redis || client instanceof Cluster;
}

/** The client library REDIS_CLIENT names, or the default. Throws {@link RedisEnvError} for anything else. */
export function parseRedisClient(env: Record<string, string | undefined>): RedisClientName {
  const value = env.REDIS_CLIENT?.trim();
  if (!value) return DEFAULT_REDIS_CLIENT;
  if (value === 'ioredis' || value === 'node-redis') return value;
  throw new RedisEnvError(`REDIS_CLIENT must be ioredis or node-redis; received ${JSON.stringify(value)}.`);
}

/** Reads the deployment from `env` without connecting; `null` when no Redis variable is set. Throws {@link RedisEnvError}. */
export function parseRedisEnv(env: Record<string, string | undefined>): RedisDeployment | null {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw ? raw : undefined;
  };
  const url = value('REDIS_URL');
  const clusterNodes = value('REDIS_CLUSTER_NODES');
  const sentinels = value('REDIS_SENTINELS');
  const name = value('REDIS_SENTINEL_NAME');
  const password = value('REDIS_PASSWORD');

  const chosen = [url && 'REDIS_URL', clusterNodes && 'REDIS_CLUSTER_NODES', sentinels && 'REDIS_SENTINELS'].filter(Boolean);
  if (chosen.length > 1) throw new RedisEnvError(`set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS; found ${chosen.join(' and ')}.`);
  if (name && !sentinels) throw new RedisEnvError('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not: give the sentinel addresses too.');

  if (clusterNodes) return { kind: 'cluster', nodes: parseAddresses('REDIS_CLUSTER_NODES', clusterNodes), ...(password ? { password } : {}) };
  if (sentinels) {
    if (!name) throw new RedisEnvError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME: the master name the sentinels monitor (e.g. mymaster).');
    return { kind: 'sentinel', sentinels: parseAddresses('REDIS_SENTINELS', sentinels), name, ...(password ? { password } : {}) };
  }
  if (password) throw new RedisEnvError('REDIS_PASSWORD is for REDIS_CLUSTER_NODES or REDIS_SENTINELS; put the password in REDIS_URL instead (redis://:secret@host:6379).');
  if (!url) return null;
  const single = url;
  let parsed: URL;
  try {
    parsed = new URL(single);
  } catch {
    throw new RedisEnvError(`REDIS_URL is not a URL: ${JSON.stringify(redact(single))}; expected redis://host:port.`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisEnvError(`REDIS_URL must start with redis:// or rediss://; received ${parsed.protocol}//...`);
  }
  return { kind: 'single', url: single };
}

/** Parses a comma-separated list of `host:port` (IPv6 as `[::1]:port`). */
function parseAddresses(variable: string, list: string): RedisAddress[] {
  return list.split(',').map((entry) => {
    const item = entry.trim();
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      throw new RedisEnvError(`${variable} has a bad entry ${JSON.stringify(item)}; expected comma-separated host:port, e.g. 10.0.0.1:7000,10.0.0.2:7000.`);
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
}

/** How to name a deployment in logs: addresses only, never a password. */
export function describeDeployment(deployment: RedisDeployment): string {
  const list = (addresses: RedisAddress[]): string => addresses.map((a) => `${a.host}:${a.port}`).join(',');
  if (deployment.kind === 'cluster') return `Redis Cluster ${list(deployment.nodes)}`;
  if (deployment.kind === 'sentinel') return `Sentinel master "${deployment.name}" via ${list(deployment.sentinels)}`;
  return redact(deployment.url);
}

/**
 * The client for a deployment, of `client`'s library: one server, a master found through Sentinel
 * (ioredis without `failoverDetector`, see the README), or a Cluster. Both reconnect at most every 500 ms. With
 * `lazyConnect` nothing connects until asked; otherwise an ioredis client connects at once and a
 * node-redis one is left for the package to connect. The caller owns it.
 */
export function clientFor(deployment: RedisDeployment, { lazyConnect = false, client = 'ioredis' as RedisClientName } = {}): DemoRedisClient {
  if (client === 'node-redis') return nodeRedisFor(deployment);
  switch (deployment.kind) {
    case 'cluster':
      return new Cluster(deployment.nodes, { lazyConnect, clusterRetryStrategy: retryStrategy, redisOptions: { password: deployment.password } });
    case 'sentinel':
      // No `failoverDetector`: its +switch-master notice can end the client for good (README, Redis Sentinel).
      return new Redis({ sentinels: deployment.sentinels, name: deployment.name, password: deployment.password, retryStrategy, lazyConnect });
    default:
      return new Redis(deployment.url, { retryStrategy, lazyConnect });
  }
}

/** The node-redis client for a deployment, not connected yet. */
function nodeRedisFor(deployment: RedisDeployment): DemoRedisClient {
  const socket = { reconnectStrategy: (retries: number) => retryStrategy(retries + 1) };
  switch (deployment.kind) {
    case 'cluster':
      return createCluster({
        rootNodes: deployment.nodes.map(({ host, port }) => ({ socket: { host, port } })),
        defaults: { password: deployment.password, socket },
      });
    case 'sentinel':
      return createSentinel({
        name: deployment.name,
        sentinelRootNodes: deployment.sentinels,
        nodeClientOptions: { password: deployment.password, socket },
      });
    default:
      return createClient({ url: deployment.url, socket });
  }
}
