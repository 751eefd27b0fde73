/**
 * Bring your own client: an ioredis or node-redis v5 client is detected automatically, anything
 * else is refused with INVALID_OPTIONS naming what it got, and a node-redis client's connection is
 * handled as the README says: connected once by the package if the app never did, never reopened
 * once the app closed it, and 503 within the store timeout while it cannot connect.
 */
import Redis from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import request from 'supertest';
import { createSessionManager, SessionError, type SessionManagerOptions } from '../lib';
import { buildApp } from './helpers/app';
import { freePort } from './helpers/redis-servers';
import { sessionCookieOf } from './helpers/suite';
import { closeClient, nodeRedisOn, uniquePrefix } from './helpers/targets';

/** Where the store timer answers: storeTimeoutMs plus this, for scheduling on a loaded 2-core machine. */
const TIMER_MARGIN = 300;
/** Where the client is known to be unusable (closed by the app), the call fails at once: this bound. */
const FAST_FAIL_BOUND = 250;

function refusal(redis: unknown): SessionError {
  try {
    createSessionManager({ redis } as SessionManagerOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('createSessionManager accepted the client');
}

describe('client detection', () => {
  test.each([
    ['an ioredis Redis', () => new Redis({ lazyConnect: true })],
    ['a node-redis client (createClient)', () => createClient()],
    ['a node-redis Cluster (createCluster)', () => createCluster({ rootNodes: [{ socket: { port: 1 } }] })],
    ['a node-redis Sentinel (createSentinel)', () => createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }] })],
  ])('accepts %s without connecting it', (_name, make) => {
    const client = make();
    expect(() => createSessionManager({ redis: client })).not.toThrow();
    expect('isOpen' in client ? client.isOpen : client.status).toBe('isOpen' in client ? false : 'wait');
    if (client instanceof Redis) client.disconnect();
  });

  test.each([
    ['a plain object', { get() {} }, /received an object \(Object\)/],
    ['a Map', new Map(), /received an object \(Map\)/],
    ['a string', 'redis://localhost:6379', /received "redis:\/\/localhost:6379"/],
    ['nothing', undefined, /received undefined/],
  ])('refuses %s with INVALID_OPTIONS naming what it got and both supported clients', (_name, redis, got) => {
    const err = refusal(redis);
    expect(err.code).toBe('INVALID_OPTIONS');
    expect(err.message).toMatch(/`redis` must be an ioredis client .* or a node-redis v5 client \(createClient\(\), createCluster\(\) or createSentinel\(\)\)/);
    expect(err.message).toMatch(got);
  });
});

describe('a node-redis client', () => {
  test('that the app never connected is connected by the first request that needs Redis', async () => {
    const client = nodeRedisOn('single');
    try {
      const { app } = buildApp(client, { keyPrefix: uniquePrefix() });
      expect(client.isOpen).toBe(false);
      const login = await request(app).post('/login').send({ userId: 'lazy' });
      expect(login.status).toBe(200);
      expect(client.isReady).toBe(true);
      expect((await request(app).get('/me').set('Cookie', sessionCookieOf(login.headers['set-cookie']))).body.userId).toBe('lazy');
    } finally {
      await closeClient(client);
    }
  });

  test('that the app closed is never reopened: requests get 503 at once', async () => {
    const client = nodeRedisOn('single');
    await client.connect();
    const { app } = buildApp(client, { keyPrefix: uniquePrefix(), storeTimeoutMs: 2000 });
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'closed' })).headers['set-cookie']);
    await client.destroy();
    const started = Date.now();
    const res = await request(app).get('/me').set('Cookie', cookie);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
    // Fast fail: no timer runs for a closed client (the store timeout is 2000 ms).
    expect(Date.now() - started).toBeLessThan(FAST_FAIL_BOUND);
    expect(client.isOpen).toBe(false);
  });

  test('that cannot connect gets 503 within the store timeout, and keeps trying', async () => {
    const port = await freePort();
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 } });
    client.on('error', () => undefined);
    try {
      const { app } = buildApp(client, { keyPrefix: uniquePrefix(), storeTimeoutMs: 300 });
      const started = Date.now();
      const res = await request(app).post('/login').send({ userId: 'nobody-home' });
      expect(res.status).toBe(503);
      // The store timer answers: the package waits for a client that never connected.
      expect(Date.now() - started).toBeGreaterThanOrEqual(300 - 20);
      expect(Date.now() - started).toBeLessThan(300 + TIMER_MARGIN);
      expect(client.isOpen).toBe(true);
    } finally {
      await closeClient(client);
    }
  });
});
