/**
 * localCache: repeat requests are answered without Redis, and Redis's client tracking keeps them exact:
 * a change to a user's keys from another process (sign-in, sign-out, revoke, save), an expiry, an eviction
 * or a restart of Redis drops the cached entry before a later request trusts it.
 */
import Redis, { Cluster } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import request from 'supertest';
import { createSessionManager } from '../lib';
import { buildApp } from './helpers/app';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { sessionCookieOf, sleep, userKeys } from './helpers/suite';
import { ioredisOn, uniquePrefix } from './helpers/targets';

let server: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server.destroy();
});

function client(): Redis {
  const redis = new Redis(server.port, server.host, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

/** Two app "processes": separate clients and managers on one Redis and one prefix. */
function twoProcesses(options = {}) {
  const prefix = uniquePrefix();
  const a = buildApp(client(), { keyPrefix: prefix, localCache: true, idleTimeout: 60, touchAfter: 30, ...options });
  const b = buildApp(client(), { keyPrefix: prefix, localCache: true, idleTimeout: 60, touchAfter: 30, ...options });
  return { prefix, a: a.app, b: b.app };
}

/** Polls `check` for up to `ms`; the first answer that passes wins. */
async function within<T>(ms: number, check: () => Promise<T>, pass: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await check();
  while (!pass(value) && Date.now() < deadline) {
    await sleep(5);
    value = await check();
  }
  return value;
}

/** How many HGETALLs (session reads) the private server has run: a cache hit runs none. */
let inspector: Redis | null = null;
async function sessionReads(): Promise<number> {
  const stats = await (inspector ??= client()).info('commandstats');
  return Number(/cmdstat_hgetall:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** Requests the cookie until one is answered 200 without a session read in Redis: the app has it cached. */
async function cached(app: Parameters<typeof request>[0], cookie: string): Promise<void> {
  const hit = await within(5000, async () => {
    const before = await sessionReads();
    const res = await request(app).get('/me').set('Cookie', cookie);
    return res.status === 200 && (await sessionReads()) === before;
  }, (ok) => ok);
  expect(hit).toBe(true);
}

/**
 * Every command clients send while a run runs (a script's inner calls not), but the invalidation
 * listeners' heartbeats; ECHO markers sent from another connection bracket the run.
 */
async function watchCommands() {
  const inspect = client();
  const monitor = await client().monitor();
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua') seen.push(args);
  });
  const mark = async (): Promise<number> => {
    const marker = `marker-${Math.random()}`;
    await inspect.echo(marker);
    const at = await within(5000, async () => seen.findIndex((args) => args[1] === marker), (index) => index !== -1);
    if (at === -1) throw new Error('MONITOR did not show the marker within 5 s');
    return at;
  };
  return {
    async commandsDuring(run: () => Promise<unknown>): Promise<string[]> {
      const from = await mark();
      await run();
      const to = await mark();
      return seen.slice(from + 1, to).map((args) => String(args[0]).toUpperCase()).filter((name) => name !== 'PING');
    },
    stop: () => monitor.disconnect(),
  };
}

test('a sign-in through another process displaces a cached session at once', async () => {
  const { a, b } = twoProcesses();
  const first = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-d' })).headers['set-cookie']);
  await cached(b, first);
  await request(a).post('/login').send({ userId: 'cache-d' });
  const refused = await within(50, () => request(b).get('/me').set('Cookie', first), (res) => res.status === 401);
  expect(refused.body.error.code).toBe('SESSION_DISPLACED');
  for (let i = 0; i < 5; i++) expect((await request(b).get('/me').set('Cookie', first)).status).toBe(401);
});

test('a save, a sign-out and a revoke from another process reach the cached entry', async () => {
  const { a, b } = twoProcesses();
  const cookie = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-s', data: { note: 'one' } })).headers['set-cookie']);
  await cached(b, cookie);
  expect((await request(a).post('/data').set('Cookie', cookie).send({ note: 'two' })).status).toBe(200);
  const read = await within(50, () => request(b).get('/me').set('Cookie', cookie), (res) => res.body.note === 'two');
  expect(read.body.note).toBe('two');

  await cached(b, cookie);
  expect((await request(a).post('/logout').set('Cookie', cookie)).status).toBe(204);
  expect((await within(50, () => request(b).get('/me').set('Cookie', cookie), (res) => res.status === 401)).body.error.code).toBe('SESSION_EXPIRED');
});

test('revokeUser from another process reaches the cached entry', async () => {
  const prefix = uniquePrefix();
  const a = buildApp(client(), { keyPrefix: prefix, localCache: true, idleTimeout: 60, touchAfter: 30 });
  const { app: b } = buildApp(client(), { keyPrefix: prefix, localCache: true, idleTimeout: 60, touchAfter: 30 });
  const cookie = sessionCookieOf((await request(a.app).post('/login').send({ userId: 'cache-r' })).headers['set-cookie']);
  await cached(b, cookie);
  expect(await a.sessions.revokeUser('cache-r')).toBe(1);
  expect((await within(50, () => request(b).get('/me').set('Cookie', cookie), (res) => res.status === 401)).body.error.code).toBe('SESSION_REVOKED');
});

test('an expiry in Redis and an eviction under maxmemory drop the cached entry', async () => {
  const { prefix, a, b } = twoProcesses();
  const inspect = client();
  const cookie = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-x' })).headers['set-cookie']);
  await cached(b, cookie);
  const keys = userKeys(prefix, 'cache-x');
  const [hash] = await inspect.hkeys(keys.index);
  await inspect.pexpire(keys.session(hash), 20);
  const expired = await within(2000, () => request(b).get('/me').set('Cookie', cookie), (res) => res.status === 401);
  expect(expired.body.error.code).toBe('SESSION_EXPIRED');

  const evicted = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-e' })).headers['set-cookie']);
  await cached(b, evicted);
  const used = Number(/used_memory:(\d+)/.exec(await inspect.info('memory'))![1]);
  await inspect.config('SET', 'maxmemory', String(used + 200_000));
  for (let i = 0; i < 400; i++) await inspect.set(`${prefix}filler:${i}`, 'x'.repeat(2000)).catch(() => undefined);
  const [evictedHash] = await inspect.hkeys(userKeys(prefix, 'cache-e').index).catch(() => [] as string[]);
  const stillThere = evictedHash ? await inspect.exists(userKeys(prefix, 'cache-e').session(evictedHash)) : 0;
  await inspect.config('SET', 'maxmemory', '0');
  expect(stillThere).toBe(0);
  expect((await within(2000, () => request(b).get('/me').set('Cookie', evicted), (res) => res.status === 401)).status).toBe(401);
}, 20_000);

test('a cached request sends no read to Redis (only the barrier\'s PING); one whose refresh is due sends only the refresh script', async () => {
  const { a, b } = twoProcesses({ touchAfter: 1 });
  const cookie = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-cost' })).headers['set-cookie']);
  await cached(b, cookie);
  const { commandsDuring, stop } = await watchCommands();
  const five = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) expect((await request(b).get('/me').set('Cookie', cookie)).status).toBe(200);
  };
  try {
    // A first due refresh loads the refresh script; then the entry is read again and cached.
    await sleep(1100);
    expect((await request(b).get('/me').set('Cookie', cookie)).status).toBe(200);
    await within(3000, () => commandsDuring(five), (names) => names.length === 0);
    expect(await commandsDuring(five)).toEqual([]);
    await sleep(1100);
    expect(await commandsDuring(() => request(b).get('/me').set('Cookie', cookie).expect(200))).toEqual(['EVALSHA']);
  } finally {
    stop();
  }
}, 20_000);

test('requests of a session that arrive together while it is not cached share one read of Redis', async () => {
  const { a, b } = twoProcesses();
  const warm = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-burst-warm' })).headers['set-cookie']);
  await cached(b, warm); // b's tracked reader is up
  const cookie = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-burst' })).headers['set-cookie']);
  const { commandsDuring, stop } = await watchCommands();
  try {
    let answers: request.Response[] = [];
    const names = await commandsDuring(async () => {
      answers = await Promise.all(Array.from({ length: 20 }, () => request(b).get('/me').set('Cookie', cookie)));
    });
    expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((res) => res.body.userId))).toEqual(new Set(['cache-burst']));
    expect(names.sort()).toEqual(['HGET', 'HGETALL']);
  } finally {
    stop();
  }
});

test('after Redis restarts empty, no cached session survives', async () => {
  const { a, b } = twoProcesses();
  const cookie = sessionCookieOf((await request(a).post('/login').send({ userId: 'cache-restart' })).headers['set-cookie']);
  await cached(b, cookie);
  await server.stop({ hard: true });
  const during = await request(b).get('/me').set('Cookie', cookie);
  expect(during.status).toBe(503);
  await server.restart();
  const after = await within(5000, () => request(b).get('/me').set('Cookie', cookie), (res) => res.status !== 503);
  expect(after.status).toBe(401);
  expect(after.body.error.code).toBe('SESSION_EXPIRED');
}, 30_000);

test('localCache is refused with a Cluster (either client) and with touchAfter 0, with a message that says why', () => {
  const redis = client();
  expect(() => createSessionManager({ redis, localCache: true, touchAfter: 0 })).toThrow(/touchAfter/);
  expect(() => createSessionManager({ redis, localCache: { maxEntries: 0 } })).toThrow(/maxEntries/);
  const cluster = new Cluster([{ host: '127.0.0.1', port: server.port }], { lazyConnect: true });
  expect(() => createSessionManager({ redis: cluster, localCache: true })).toThrow(/refused on a Cluster.*ioredis Cluster client/);
  cluster.disconnect();
  const nodeCluster = createCluster({ rootNodes: [{ socket: { host: '127.0.0.1', port: server.port } }] });
  expect(() => createSessionManager({ redis: nodeCluster, localCache: true })).toThrow(/refused on a Cluster.*node-redis Cluster client/);
  const nodeSentinel = createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: server.port }] });
  expect(() => createSessionManager({ redis: nodeSentinel, localCache: true })).toThrow(/on Sentinel with ioredis.*node-redis Sentinel client/);
  // A node-redis client on a single Redis is accepted.
  expect(() => createSessionManager({ redis: createClient({ socket: { host: '127.0.0.1', port: server.port } }), localCache: true })).not.toThrow();
});

test('on Sentinel with ioredis, hits are served from the master\'s tracked connection and a revoke answered elsewhere is never served', async () => {
  const prefix = uniquePrefix();
  const redis = ioredisOn('sentinel') as Redis;
  const writerClient = ioredisOn('sentinel') as Redis;
  const inspect = ioredisOn('sentinel') as Redis;
  const options = { keyPrefix: prefix, idleTimeout: 60, touchAfter: 30 };
  const { app } = buildApp(redis, { ...options, localCache: true });
  const writer = createSessionManager({ redis: writerClient, ...options });
  const reads = async (): Promise<number> => Number(/cmdstat_hgetall:calls=(\d+)/.exec(await inspect.info('commandstats'))?.[1] ?? 0);
  try {
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'cache-sentinel' })).headers['set-cookie']);
    const hit = await within(5000, async () => {
      const before = await reads();
      const res = await request(app).get('/me').set('Cookie', cookie);
      return res.status === 200 && (await reads()) === before;
    }, (ok) => ok);
    expect(hit).toBe(true);
    expect(await writer.revokeUser('cache-sentinel')).toBe(1);
    const res = await request(app).get('/me').set('Cookie', cookie);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_REVOKED');
  } finally {
    for (const client of [redis, writerClient, inspect]) client.disconnect();
  }
});
