/**
 * The one place that decides which Redis the demo talks to: REDIS_URL, REDIS_CLUSTER_NODES or
 * REDIS_SENTINELS + REDIS_SENTINEL_NAME (parsed by redis-from-env.ts), or a private redis-server.
 */
import Redis, { type Cluster } from 'ioredis';
import { DemoConfigError } from './config';
import { clientFor, describeDeployment, parseRedisEnv, RedisEnvError } from './redis-from-env';

/** A Redis client the demo owns, and how to name it in messages (never with a password). */
export interface ConfiguredRedis {
  readonly client: Redis | Cluster;
  readonly description: string;
}

/**
 * The ioredis client the environment asks for, or `null` when it names no Redis (the demo then
 * starts a private one). Throws `DemoConfigError` for a value it cannot use. The client connects
 * lazily: call {@link waitUntilReady} before serving.
 */
export function redisFromEnv(env: NodeJS.ProcessEnv): ConfiguredRedis | null {
  let deployment;
  try {
    deployment = parseRedisEnv(env);
  } catch (err) {
    if (err instanceof RedisEnvError) throw new DemoConfigError(err.message.replace(/^demo-app: /, ''));
    throw err;
  }
  if (!deployment) return null;
  return { client: clientFor(deployment, { lazyConnect: true }), description: describeDeployment(deployment) };
}

/** A client for a Redis at `url` that the demo started itself. */
export function redisAt(url: string): ConfiguredRedis {
  return { client: new Redis(url, { lazyConnect: true }), description: url };
}

/**
 * Connects and resolves once Redis answers, or rejects with a one-line reason after the first
 * failure or `timeoutMs`, so a wrong REDIS_URL stops the demo instead of retrying forever.
 */
export async function waitUntilReady(redis: ConfiguredRedis, timeoutMs = 5000): Promise<void> {
  const { client, description } = redis;
  let timer: NodeJS.Timeout | undefined;
  let onError: ((err: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (err) => reject(new DemoConfigError(`cannot reach Redis at ${description}: ${err.message}`));
    client.once('error', onError);
    timer = setTimeout(() => reject(new DemoConfigError(`Redis at ${description} did not answer within ${timeoutMs} ms.`)), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), failed]);
  } finally {
    clearTimeout(timer);
    if (onError) client.off('error', onError);
  }
}
