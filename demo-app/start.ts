/**
 * `npm run demo`: reads the settings, connects to REDIS_URL or starts a private redis-server,
 * serves the demo app and prints its URL. Ctrl-C (SIGINT), SIGTERM or SIGHUP stop everything it
 * started and exit 0. Any problem at start is one line on stderr and exit code 1, never a stack trace.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { createDemoApp } from './app';
import { DemoConfigError, readConfig } from './config';
import { startPrivateRedis, type PrivateRedis } from './private-redis';
import { closeRedis, redisAt, redisClientFromEnv, redisFromEnv, waitUntilReady, type ConfiguredRedis } from './redis';

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const warn = (line: string): void => void process.stderr.write(`demo: ${line}\n`);

/** Everything started so far, stopped in reverse order. */
const started: { redis?: ConfiguredRedis; privateRedis?: PrivateRedis; server?: Server } = {};
let stopping = false;

async function main(): Promise<void> {
  const config = readConfig(process.env);

  started.redis = redisFromEnv(process.env) ?? undefined;
  if (!started.redis) {
    started.privateRedis = await startPrivateRedis();
    started.privateRedis.onUnexpectedExit((code, signal) => {
      warn(`the private redis-server stopped unexpectedly (${signal ?? `code ${code}`}); stopping the demo.`);
      void stop(1);
    });
    log(`No REDIS_URL set: started a private redis-server at ${started.privateRedis.url} (data folder ${started.privateRedis.dir}); it stops with the demo.`);
    started.redis = redisAt(started.privateRedis.url, redisClientFromEnv(process.env));
  }
  const redis = started.redis;
  let connected = false; // until then waitUntilReady reports the failure, in one line
  const reportRedisError = throttled((err: Error) => warn(`Redis at ${redis.description}: ${err.message}`));
  (redis.client as unknown as NodeJS.EventEmitter).on('error', (err: Error) => connected && reportRedisError(err));
  await waitUntilReady(redis);
  connected = true;
  if (config.secretIsRandom) warn('SESSION_SECRET is not set: using a random secret, so sessions will not survive a restart.');

  const { app } = createDemoApp({
    redis: redis.client,
    secret: config.secret,
    idleTimeout: config.idleTimeout,
    absoluteTimeout: config.absoluteTimeout,
    maxSessions: config.maxSessions,
    onLimit: config.onLimit,
    onError: throttled((err) => warn(err.message)),
  });
  const server = createServer(app);
  started.server = server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new DemoConfigError(err.code === 'EADDRINUSE' ? `port ${config.port} is in use: set PORT to another port.` : `cannot listen on ${config.host}:${config.port}: ${err.message}`));
    });
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '127.0.0.1' || config.host === '0.0.0.0' ? 'localhost' : config.host;
  const absolute = config.absoluteTimeout === false ? 'off' : `${config.absoluteTimeout} s`;
  const policy = `${config.maxSessions} session${config.maxSessions === 1 ? '' : 's'} per user, ${config.onLimit}`;
  log(`Demo running at http://${host}:${port}/ (idle timeout ${config.idleTimeout} s, absolute timeout ${absolute}, ${policy}). Press Ctrl-C to stop.`);
}

/** Stops what was started, in reverse order, then exits with `code`. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    warn('could not stop cleanly within 5 s; exiting.');
    process.exit(1);
  }, 5000).unref();
  const { server, redis, privateRedis } = started;
  if (server?.listening) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  if (redis) closeRedis(redis);
  if (privateRedis) {
    await privateRedis.stop();
    log('Stopped the private redis-server.');
  }
  process.exit(code);
}

/** Wraps a logger so a burst of identical failures prints one line per 5 seconds. */
function throttled<T extends Error>(print: (err: T) => void): (err: T) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    print(err);
  };
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    log('Stopping the demo.');
    void stop(0);
  });
}

main().catch((err: unknown) => {
  warn(err instanceof DemoConfigError ? err.message : `could not start: ${(err as Error)?.message ?? String(err)}`);
  void stop(1);
});
