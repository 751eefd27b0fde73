/**
 * The one place that decides which Redis the demo talks to, and through which client library:
 * REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS + REDIS_SENTINEL_NAME (parsed by
 * redis-from-env.ts), or a private redis-server; REDIS_CLIENT=ioredis|node-redis picks the client.
 */
import { DemoConfigError } from './config';
import { clientFor, describeDeployment, isIoredisClient, parseRedisClient, parseRedisEnv, RedisEnvError, type DemoRedisClient, type RedisClientName } from './redis-from-env';

/** A Redis client the demo owns, and how to name it in messages (never with a password). */
export interface ConfiguredRedis {
  readonly client: DemoRedisClient;
  /** Which library `client` is. */
  readonly library: RedisClientName;
  readonly description: string;
}

/** Runs `parse`, turning a bad Redis variable into the demo's configuration error. */
function fromEnv<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RedisEnvError) throw new DemoConfigError(err.message.replace(/^demo-app: /, ''));
    throw err;
  }
}

/**
 * The client the environment asks for, or `null` when it names no Redis (the demo then starts a
 * private one). Throws `DemoConfigError` for a value it cannot use. The client connects lazily:
 * call {@link waitUntilReady} before serving.
 */
export function redisFromEnv(env: NodeJS.ProcessEnv): ConfiguredRedis | null {
  const library = fromEnv(() => parseRedisClient(env));
  const deployment = fromEnv(() => parseRedisEnv(env));
  if (!deployment) return null;
  return { client: clientFor(deployment, { lazyConnect: true, client: library }), library, description: describeDeployment(deployment) };
}

/** A client of `library` for a Redis at `url` that the demo started itself. */
export function redisAt(url: string, library: RedisClientName): ConfiguredRedis {
  return { client: clientFor({ kind: 'single', url }, { lazyConnect: true, client: library }), library, description: url };
}

/** The client library REDIS_CLIENT names (or the recommended default). Throws `DemoConfigError`. */
export function redisClientFromEnv(env: NodeJS.ProcessEnv): RedisClientName {
  return fromEnv(() => parseRedisClient(env));
}

/** Connects the client, resolving once it can send commands. */
async function connect(client: DemoRedisClient): Promise<void> {
  if (isIoredisClient(client)) {
    await client.connect();
    await client.ping();
    return;
  }
  await client.connect();
}

/**
 * Connects and resolves once Redis answers, or rejects with a one-line reason after the first
 * failure or `timeoutMs`, so a wrong REDIS_URL stops the demo instead of retrying forever.
 */
export async function waitUntilReady(redis: ConfiguredRedis, timeoutMs = 5000): Promise<void> {
  const { client, description } = redis;
  const emitter = client as unknown as NodeJS.EventEmitter;
  let timer: NodeJS.Timeout | undefined;
  let onError: ((err: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (err) => reject(new DemoConfigError(`cannot reach Redis at ${description}: ${err.message}`));
    emitter.once('error', onError);
    timer = setTimeout(() => reject(new DemoConfigError(`Redis at ${description} did not answer within ${timeoutMs} ms.`)), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([connect(client), failed]);
  } finally {
    clearTimeout(timer);
    if (onError) emitter.off('error', onError);
  }
}

/** Closes the demo's client, whichever library it is. */
export function closeRedis(redis: ConfiguredRedis): void {
  const { client } = redis;
  if (isIoredisClient(client)) client.disconnect();
  else if (client.isOpen) void Promise.resolve(client.destroy()).catch(() => undefined);
}
