/**
 * Cost on the wire, on a private server, once per client library. Redis's own count of the reads it
 * made (INFO stats `total_reads_processed`) on clients built as the README builds them: one read per
 * signed-in request, and one for many requests made together. The commands, counted with MONITOR:
 * one round trip per request that carries a session cookie (two plain reads written back to back, or
 * one script with touchAfter 0), none for a request without one, one script per login; a refresh due
 * under touchAfter adds one script.
 */
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import Redis from 'ioredis';
import { createClient } from 'redis';
import request from 'supertest';
import { buildApp, TEST_SECRET } from './helpers/app';
import { TOUCH } from '../lib/store/scripts';
import { watchCommands } from './helpers/monitor';
import { startRedis, waitUntil, type RedisServer } from './helpers/redis-servers';
import { sessionCookieOf, sleep } from './helpers/suite';
import { CLIENTS, clientOn, closeClient, isNodeRedisClient, type AppRedis, type NodeRedisClient } from './helpers/targets';
import { parseInfo } from './helpers/redis-servers';

let server: RedisServer;
let admin: Redis;
let watch: Awaited<ReturnType<typeof watchCommands>>;
/** What one signed-in request that needs no refresh sends: two plain reads in one round trip. */
const READ = ['HGETALL', 'HGET'];

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.port, server.host);
  watch = await watchCommands(server);
});

afterAll(async () => {
  watch.stop();
  admin.disconnect();
  await server.destroy();
});

/** One raw command on the app's client, whichever library it is. */
async function call(redis: AppRedis, ...args: string[]): Promise<unknown> {
  if (!isNodeRedisClient(redis)) return redis.call(args[0], ...args.slice(1));
  if (!redis.isOpen) await redis.connect();
  return (redis as NodeRedisClient).sendCommand(args);
}

/** Reads Redis has made from all its clients so far; the INFO command's own read is counted in it. */
async function readsSoFar(): Promise<number> {
  return Number(parseInfo(await admin.info('stats')).get('total_reads_processed'));
}

/** The reads Redis made while `run` ran (INFO's own read taken out). */
async function readsDuring(run: () => Promise<unknown>): Promise<number> {
  const before = await readsSoFar();
  await run();
  return (await readsSoFar()) - before - 1;
}

/** The app's client exactly as the README's quick start builds it: a URL and nothing else. */
const AS_THE_README: Record<(typeof CLIENTS)[number], (url: string) => AppRedis> = {
  ioredis: (url) => new Redis(url),
  'node-redis': (url) => createClient({ url }) as unknown as AppRedis,
};

describe.each(CLIENTS)('Redis reads per request, client as the README builds it (%s)', (library) => {
  let redis: AppRedis;
  let sessions: ReturnType<typeof buildApp>['sessions'];
  let app: ReturnType<typeof buildApp>['app'];
  let cookie = '';

  beforeAll(async () => {
    redis = AS_THE_README[library](`redis://${server.host}:${server.port}`);
    // touchAfter far away: no refresh falls due while reads are counted, however slow the machine.
    ({ app, sessions } = buildApp(redis, { keyPrefix: `reads-${library}:`, touchAfter: 600 }));
    cookie = sessionCookieOf((await request(app).post('/login').send({ userId: `reads-${library}` })).headers['set-cookie']);
    expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200); // connected and warm
  });

  afterAll(() => closeClient(redis));

  test('a signed-in request, one at a time: exactly one Redis read each', async () => {
    const reads = await readsDuring(async () => {
      for (let i = 0; i < 20; i++) expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
    });
    expect(reads).toBe(20);
  });

  test('requests made together: their reads leave in one write, one Redis read for all of them', async () => {
    // The cookie's value as cookie-parser hands it over (`s:<value>.<signature>`, signature checked).
    const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)).slice(2).replace(/\.[^.]*$/, '');
    const resolve = sessions.middleware();
    const fields = { secret: TEST_SECRET, secure: false, signedCookies: { ess_sid: value }, cookies: {}, headers: {}, ip: '127.0.0.1' };
    const request = (): Request => ({ ...fields, get: () => undefined }) as unknown as Request;
    const response = (): Response => ({ headersSent: false, cookie() {}, clearCookie() {}, end() {}, on() {}, once() {} }) as unknown as Response;
    const requests = Array.from({ length: 25 }, request);
    const resolved = (req: Request): Promise<void> =>
      new Promise<void>((done, fail) => resolve(req, response(), ((err?: unknown) => (err ? fail(err) : done())) as NextFunction));
    // All of them in one turn of the event loop, as requests that arrived together.
    const reads = await readsDuring(() => Promise.all(requests.map(resolved)));
    for (const req of requests) expect(req.session?.userId).toBe(`reads-${library}`);
    expect(reads).toBe(1);
  });
});

describe.each(CLIENTS)('round trips (%s)', (library) => {
  let redis: AppRedis;

  beforeAll(async () => {
    redis = clientOn(library, server.port);
    watch.follow(/addr=(\S+)/.exec(String(await call(redis, 'CLIENT', 'INFO')))![1]);
  });

  afterAll(() => closeClient(redis));

  const echo = (marker: string): Promise<unknown> => call(redis, 'ECHO', marker);
  /** The commands the app's client sent while `run` ran. */
  const commandsDuring = (run: () => Promise<unknown>): Promise<string[]> => watch.commandsDuring(echo, run);

  test('touchAfter 0: one EVALSHA per authenticated request, none per anonymous request, one per login', async () => {
    const { app } = buildApp(redis, { touchAfter: 0 });
    const warm = await request(app).post('/login').send({ userId: 'warm-up' });
    await request(app).get('/me').set('Cookie', sessionCookieOf(warm.headers['set-cookie']));
    await request(app).post('/data').set('Cookie', sessionCookieOf(warm.headers['set-cookie'])).send({ x: 1 });

    let cookie = '';
    const login = await commandsDuring(async () => {
      cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'counted' })).headers['set-cookie']);
    });
    expect(login).toEqual(['EVALSHA']);

    const authenticated = await commandsDuring(async () => {
      for (let i = 0; i < 20; i++) expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
    });
    expect(authenticated).toEqual(Array(20).fill('EVALSHA'));

    const anonymous = await commandsDuring(async () => {
      for (let i = 0; i < 20; i++) await request(app).get('/public');
      for (let i = 0; i < 5; i++) await request(app).get('/me').set('Cookie', 'ess_sid=garbage');
    });
    expect(anonymous).toEqual([]);

    // The README: a change is saved when the response ends, one more round trip, only on requests that changed data.
    const changedData = await commandsDuring(async () => {
      expect((await request(app).post('/data').set('Cookie', cookie).send({ theme: 'dark' })).status).toBe(200);
    });
    expect(changedData).toEqual(['EVALSHA', 'EVALSHA']);
    const unchangedData = await commandsDuring(async () => {
      expect((await request(app).post('/data').set('Cookie', cookie).send({})).status).toBe(200);
    });
    expect(unchangedData).toEqual(['EVALSHA']);
    expect((await request(app).get('/me').set('Cookie', cookie)).body.theme).toBe('dark');
  });

  test('mounting the middleware twice (app and router) still costs one round trip', async () => {
    const { app } = buildApp(redis, { touchAfter: 0 }, (routes, manager) => {
      const router = express.Router();
      router.use(manager.middleware());
      router.get('/twice', manager.requireSession(), (req, res) => res.json({ userId: req.session!.userId }));
      routes.use('/nested', router);
    });
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'twice' })).headers['set-cookie']);
    const commands = await commandsDuring(async () => {
      const res = await request(app).get('/nested/twice').set('Cookie', cookie);
      expect(res.body).toEqual({ userId: 'twice' });
    });
    expect(commands).toEqual(['EVALSHA']);
  });

  test('after SCRIPT FLUSH the scripts are loaded again once (NOSCRIPT fallback) and keep working', async () => {
    const { app } = buildApp(redis, { touchAfter: 0 });
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'flushed' })).headers['set-cookie']);
    await admin.script('FLUSH');
    const commands = await commandsDuring(async () => {
      expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
      expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
    });
    expect(commands).toEqual(['EVALSHA', 'EVAL', 'EVALSHA']);
  });

  test('default touchAfter: one round trip of plain reads per request, a refresh script only when one is due', async () => {
    const { app } = buildApp(redis, { idleTimeout: 100, touchAfter: 3 });
    // The scripts may have been flushed by the test before: load sign-in and save before the counting starts.
    const warm = sessionCookieOf((await request(app).post('/login').send({ userId: 'warm-up-reader' })).headers['set-cookie']);
    await request(app).post('/data').set('Cookie', warm).send({ note: 'warm' });
    let cookie = '';
    const login = await commandsDuring(async () => {
      cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'reader' })).headers['set-cookie']);
    });
    expect(login).toEqual(['EVALSHA']);
    // A first refresh loads the refresh script (EVALSHA, NOSCRIPT, EVAL; sent without the request waiting)
    // before the counting starts.
    await sleep(3100);
    expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
    await waitUntil('the refresh script is loaded', async () => ((await admin.script('EXISTS', TOUCH.sha)) as number[])[0] === 1);
    await watch.flush(echo);

    const reads = await commandsDuring(async () => {
      for (let i = 0; i < 10; i++) expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
    });
    expect(reads).toEqual(Array(10).fill(READ).flat());

    await sleep(3100);
    const due = await commandsDuring(async () => {
      expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
      expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
    });
    expect(due).toEqual([...READ, 'EVALSHA', ...READ]);

    // Concurrent requests of a session that is due send one refresh between them, not one each.
    await sleep(3100);
    const burst = await commandsDuring(async () => {
      const answers = await Promise.all(Array.from({ length: 5 }, () => request(app).get('/me').set('Cookie', cookie)));
      for (const answer of answers) expect(answer.status).toBe(200);
    });
    expect(burst.filter((name) => name === 'EVALSHA')).toEqual(['EVALSHA']);
    expect(burst.filter((name) => name !== 'EVALSHA').sort()).toEqual(Array(5).fill(READ).flat().sort());

    const changed = await commandsDuring(() => request(app).post('/data').set('Cookie', cookie).send({ note: 'x' }));
    expect(changed).toEqual([...READ, 'EVALSHA']);
  });
});
