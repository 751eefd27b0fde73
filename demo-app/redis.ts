/**
 * The one place that decides which Redis the demo talks to, from the environment.
 * Today: REDIS_URL. Cluster and Sentinel settings belong here too, as more branches of
 * `redisFromEnv`, so the rest of the demo never changes when a deployment kind is added.
 */
import Redis, { type Cluster } from 'ioredis';
import { DemoConfigError } from './config';

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
  const url = env.REDIS_URL?.trim();
  if (url) return { client: new Redis(checkRedisUrl(url), { lazyConnect: true }), description: redact(url) };
  return null;
}

/** A client for a Redis at `url` that the demo started itself. */
export function redisAt(url: string): ConfiguredRedis {
  return { client: new Redis(url, { lazyConnect: true }), description: url };
}

function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DemoConfigError(`REDIS_URL must be a URL like redis://127.0.0.1:6379/0; received ${JSON.stringify(redact(url))}.`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DemoConfigError(`REDIS_URL must start with redis:// or rediss://; received ${JSON.stringify(redact(url))}.`);
  }
  return url;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
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
