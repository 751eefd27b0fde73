/**
 * Fail closed and fast: while Redis is down or stalled, requests that need a session get 503
 * SESSION_STORE_UNAVAILABLE within the store timeout, nobody is treated as signed in, nothing
 * crashes, and the next request after Redis is back works without restarting the app. A sign-in
 * answered 503 while Redis was frozen never takes effect later. Once per client library.
 *
 * The app runs in its own process (fixtures/app-process.ts), which counts every unhandled rejection
 * and uncaught exception and reports them on GET /faults: a listener inside a Jest test file never
 * hears them, so only another process can prove there were none.
 */
import Redis from 'ioredis';
import request from 'supertest';
import { createSessionManager } from '../lib';
import { startAppProcess, type AppProcess } from './helpers/app-processes';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { sessionCookieOf, sleep } from './helpers/suite';
import { CLIENTS, uniquePrefix, type ClientName } from './helpers/targets';

const STORE_TIMEOUT = 500;
/**
 * Where the store timer answers (CLIENT PAUSE, a frozen Redis): storeTimeoutMs plus this, for the
 * HTTP hop between two processes and scheduling on a loaded 2-core machine.
 */
const TIMER_MARGIN = 300;
/**
 * Where the connection is known to be down (refused, reconnecting) the call fails at once, without
 * waiting for the timer: ioredis reports such a client as `reconnecting`. A node-redis client stays
 * `isOpen` while it reconnects, so the package waits for it and the store timer answers instead.
 */
const FAST_FAIL_BOUND = 250;
const downBound = (library: ClientName): number => (library === 'ioredis' ? FAST_FAIL_BOUND : STORE_TIMEOUT + TIMER_MARGIN);

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  await server.destroy();
});

async function timed(run: () => Promise<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const started = Date.now();
  const res = await run();
  return { res, ms: Date.now() - started };
}

/** Starts an app process on `library` that retries the connection every 100 ms. */
function appOn(library: ClientName, onError: 'record' | 'throw', keyPrefix = uniquePrefix()): Promise<AppProcess> {
  return startAppProcess(
    { port: server.port },
    { keyPrefix, storeTimeoutMs: STORE_TIMEOUT, env: { ESS_CLIENT: library, ESS_RETRY_MS: '100', ESS_ON_ERROR: onError } },
  );
}

/** Signs `userId` in on `app`, retrying while the app's client is still reconnecting (503). */
async function signInWhenUp(app: AppProcess, userId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await request(app.base).post('/login').send({ userId });
    if (res.status !== 503 || Date.now() > deadline) return sessionCookieOf(res.headers['set-cookie']);
    await sleep(50);
  }
}

/** The app process counted no unhandled rejection and no uncaught exception. */
async function expectNoFaults(app: AppProcess): Promise<void> {
  expect(await app.faults()).toMatchObject({ unhandledRejections: [], uncaughtExceptions: [] });
}

/** Answers a frozen (CLIENT PAUSE) Redis holds for `ms`; the pause ends by itself. */
async function paused<T>(ms: number, run: () => Promise<T>): Promise<T> {
  const admin = new Redis({ host: server.host, port: server.port });
  try {
    await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    return await run();
  } finally {
    await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    admin.disconnect();
  }
}

describe.each(CLIENTS)('Redis down or stalled (%s)', (library) => {
  const keyPrefix = uniquePrefix();
  let app: AppProcess;
  let throwing: AppProcess;
  beforeAll(async () => {
    [app, throwing] = await Promise.all([appOn(library, 'record', keyPrefix), appOn(library, 'throw')]);
  });
  afterAll(async () => {
    await Promise.all([app?.stop(), throwing?.stop()]);
  });
  afterEach(async () => {
    if (!server.running) await server.restart(); // a failed test leaves the next one a working Redis
  });

  test('Redis stopped mid-test: 503 within the bound of its path, never signed in; back up: the same session works again', async () => {
    const cookie = await signInWhenUp(app, 'outage-user');
    expect((await request(app.base).get('/me').set('Cookie', cookie)).status).toBe(200);

    await server.stop({ hard: true });
    // The first call may still go out on the closing connection, so the timer bounds it; once the
    // client has heard the close, every call fails fast.
    const first = await timed(() => request(app.base).get('/me').set('Cookie', cookie));
    expect(first.res.status).toBe(503);
    expect(first.ms).toBeLessThan(STORE_TIMEOUT + TIMER_MARGIN);
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await timed(() => request(app.base).get('/me').set('Cookie', cookie));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(ms).toBeLessThan(downBound(library));
      const open = await request(app.base).get('/public').set('Cookie', cookie);
      expect(open.body).toEqual({ signedIn: false, code: 'SESSION_STORE_UNAVAILABLE' });
    }
    const { res: failedLogin, ms } = await timed(() => request(app.base).post('/login').send({ userId: 'other' }));
    expect(failedLogin.status).toBe(503);
    expect(failedLogin.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect(failedLogin.headers['set-cookie']).toBeUndefined();
    expect(ms).toBeLessThan(downBound(library));

    await server.restart();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await request(app.base).get('/me').set('Cookie', cookie)).status;
      if (status === 200) break;
      expect(status).toBe(503);
      await sleep(50);
    }
    expect(status).toBe(200);
    expect(await (await fetch(`${app.base}/on-error`)).json()).toContain('SESSION_STORE_UNAVAILABLE');
    await expectNoFaults(app);
  });

  test('an onError hook that throws cannot break a request or leave an unhandled rejection', async () => {
    const cookie = await signInWhenUp(throwing, 'hook-user');
    await server.stop({ hard: true });
    try {
      for (let i = 0; i < 3; i++) expect((await request(throwing.base).get('/me').set('Cookie', cookie)).status).toBe(503);
      expect((await request(throwing.base).post('/login').send({ userId: 'hook-user' })).status).toBe(503);
    } finally {
      await server.restart();
    }
    // A timed-out call too: the hook throws from the timer's path.
    const { res } = await timed(() => paused(STORE_TIMEOUT * 2, () => request(throwing.base).get('/me').set('Cookie', cookie)));
    expect(res.status).toBe(503);
    expect(throwing.alive).toBe(true);
    await expectNoFaults(throwing);
  });

  test('Redis stalled (CLIENT PAUSE): 503 when the store timer fires, within storeTimeoutMs + the stated margin', async () => {
    const cookie = await signInWhenUp(app, 'stall-user');
    const { res, ms } = await paused(STORE_TIMEOUT + 1500, () => timed(() => request(app.base).get('/me').set('Cookie', cookie)));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect(ms).toBeGreaterThanOrEqual(STORE_TIMEOUT - 20);
    expect(ms).toBeLessThan(STORE_TIMEOUT + TIMER_MARGIN);
    expect((await request(app.base).get('/me').set('Cookie', cookie)).status).toBe(200);
    await expectNoFaults(app);
  });

  test('a sign-in answered 503 while Redis was frozen never takes effect when Redis resumes', async () => {
    const inspector = new Redis({ host: server.host, port: server.port });
    const sessions = createSessionManager({ redis: inspector, keyPrefix });
    try {
      const kept = await signInWhenUp(app, 'frozen-user');
      const [before] = await sessions.listSessions('frozen-user');
      const { res, ms } = await paused(STORE_TIMEOUT + 1000, async () => {
        const answer = await timed(() => request(app.base).post('/login').send({ userId: 'frozen-user' }));
        // Still paused: the sign-in Redis is holding runs when the pause ends, past its deadline.
        return answer;
      });
      expect(res.status).toBe(503);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(STORE_TIMEOUT - 20);
      expect(ms).toBeLessThan(STORE_TIMEOUT + TIMER_MARGIN);
      await inspector.ping();
      expect((await request(app.base).get('/me').set('Cookie', kept)).status).toBe(200);
      expect((await sessions.listSessions('frozen-user')).map((s) => s.sessionId)).toEqual([before.sessionId]);
      await expectNoFaults(app);
    } finally {
      inspector.disconnect();
    }
  });
});
