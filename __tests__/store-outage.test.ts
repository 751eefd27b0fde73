/**
 * Fail closed and fast: while Redis is down or stalled, requests that need a session get 503
 * SESSION_STORE_UNAVAILABLE within the store timeout, nobody is treated as signed in, nothing
 * crashes, and the next request after Redis is back works without restarting the app. A sign-in
 * answered 503 while Redis was frozen never takes effect later. Once per client library.
 */
import Redis from 'ioredis';
import request from 'supertest';
import { buildApp } from './helpers/app';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { sessionCookieOf, sleep } from './helpers/suite';
import { CLIENTS, clientOn, closeClient, uniquePrefix, type AppRedis } from './helpers/targets';

const STORE_TIMEOUT = 300;
const MARGIN = 700; // scheduling slack on a loaded 2-core machine

let server: RedisServer;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const errors: string[] = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await server.destroy();
});

async function timed(run: () => Promise<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const started = Date.now();
  const res = await run();
  return { res, ms: Date.now() - started };
}

describe.each(CLIENTS)('Redis down or stalled (%s)', (library) => {
  let redis: AppRedis;
  beforeAll(() => {
    redis = clientOn(library, server.port);
  });
  afterAll(() => closeClient(redis));

  function app() {
    return buildApp(redis, { keyPrefix: uniquePrefix(), storeTimeoutMs: STORE_TIMEOUT, onError: (err) => errors.push(err.code) }).app;
  }

  test('Redis stopped mid-test: 503 within the bound, never signed in; back up: the same session works again', async () => {
    const testApp = app();
    const login = await request(testApp).post('/login').send({ userId: 'outage-user' });
    const cookie = sessionCookieOf(login.headers['set-cookie']);
    expect((await request(testApp).get('/me').set('Cookie', cookie)).status).toBe(200);

    await server.stop({ hard: true });
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await timed(() => request(testApp).get('/me').set('Cookie', cookie));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(ms).toBeLessThan(STORE_TIMEOUT + MARGIN);
      const open = await request(testApp).get('/public').set('Cookie', cookie);
      expect(open.body).toEqual({ signedIn: false, code: 'SESSION_STORE_UNAVAILABLE' });
    }
    const { res: failedLogin, ms } = await timed(() => request(testApp).post('/login').send({ userId: 'other' }));
    expect(failedLogin.status).toBe(503);
    expect(failedLogin.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect(failedLogin.headers['set-cookie']).toBeUndefined();
    expect(ms).toBeLessThan(STORE_TIMEOUT + MARGIN);

    await server.restart();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await request(testApp).get('/me').set('Cookie', cookie)).status;
      if (status === 200) break;
      expect(status).toBe(503);
      await sleep(50);
    }
    expect(status).toBe(200);
    expect(errors).toContain('SESSION_STORE_UNAVAILABLE');
    expect(unhandled).toEqual([]);
  });

  test('an onError hook that throws cannot break a request or leave an unhandled rejection', async () => {
    const { app: throwing } = buildApp(redis, {
      storeTimeoutMs: STORE_TIMEOUT,
      onError: () => {
        throw new Error('logger down');
      },
    });
    const cookie = sessionCookieOf((await request(throwing).post('/login').send({ userId: 'hook-user' })).headers['set-cookie']);
    await server.stop({ hard: true });
    try {
      const res = await request(throwing).get('/me').set('Cookie', cookie);
      expect(res.status).toBe(503);
    } finally {
      await server.restart();
    }
    await sleep(100);
    expect(unhandled).toEqual([]);
  });

  test('Redis stalled (CLIENT PAUSE): 503 within the store timeout instead of hanging', async () => {
    const testApp = app();
    const login = await request(testApp).post('/login').send({ userId: 'stall-user' });
    const cookie = sessionCookieOf(login.headers['set-cookie']);
    const admin = new Redis({ host: server.host, port: server.port });
    try {
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      const { res, ms } = await timed(() => request(testApp).get('/me').set('Cookie', cookie));
      expect(res.status).toBe(503);
      expect(ms).toBeGreaterThanOrEqual(STORE_TIMEOUT - 20);
      expect(ms).toBeLessThan(STORE_TIMEOUT + MARGIN);
      await admin.call('CLIENT', 'UNPAUSE');
      expect((await request(testApp).get('/me').set('Cookie', cookie)).status).toBe(200);
    } finally {
      admin.disconnect();
    }
    expect(unhandled).toEqual([]);
  });

  test('a sign-in answered 503 while Redis was frozen never takes effect when Redis resumes', async () => {
    const { app: testApp, sessions } = buildApp(redis, { keyPrefix: uniquePrefix(), storeTimeoutMs: STORE_TIMEOUT });
    const kept = sessionCookieOf((await request(testApp).post('/login').send({ userId: 'frozen-user' })).headers['set-cookie']);
    const [before] = await sessions.listSessions('frozen-user');
    const admin = new Redis({ host: server.host, port: server.port });
    try {
      await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const { res, ms } = await timed(() => request(testApp).post('/login').send({ userId: 'frozen-user' }));
      expect(res.status).toBe(503);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(ms).toBeLessThan(STORE_TIMEOUT + MARGIN);
      // The pause ends by itself; the sign-in Redis was holding runs now, past its deadline.
      await admin.ping();
    } finally {
      admin.disconnect();
    }
    expect((await request(testApp).get('/me').set('Cookie', kept)).status).toBe(200);
    expect((await sessions.listSessions('frozen-user')).map((s) => s.sessionId)).toEqual([before.sessionId]);
    expect(unhandled).toEqual([]);
  });
});
