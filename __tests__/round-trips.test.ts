/**
 * Cost on the wire, counted with MONITOR on a private server, once per client library: one round trip
 * per request that carries a session cookie (two plain reads written back to back, or one script with
 * touchAfter 0), none for a request without one, one script per login; a refresh due under touchAfter
 * adds one script.
 */
import express from 'express';
import Redis from 'ioredis';
import request from 'supertest';
import { buildApp } from './helpers/app';
import { TOUCH } from '../lib/store/scripts';
import { watchCommands } from './helpers/monitor';
import { startRedis, waitUntil, type RedisServer } from './helpers/redis-servers';
import { sessionCookieOf, sleep } from './helpers/suite';
import { CLIENTS, clientOn, closeClient, isNodeRedisClient, type AppRedis, type NodeRedisClient } from './helpers/targets';

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
