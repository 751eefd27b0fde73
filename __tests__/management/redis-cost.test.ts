/**
 * What each management operation costs Redis, on a private server: the exact commands the app's
 * client sends (MONITOR: a script counts as one EVALSHA) and the memory one user takes with
 * `maxSessions` 1 and 5 (MEMORY USAGE of the user's keys; `used_memory` growth, the measure of
 * bench/RESULTS.md, is printed too but not checked: over a few hundred users it moves in steps as
 * Redis resizes its tables).
 */
import Redis from 'ioredis';
import request from 'supertest';
import { buildApp } from '../helpers/app';
import { watchCommands } from '../helpers/monitor';
import { startRedis, type RedisServer } from '../helpers/redis-servers';
import { isSessionKey, sessionCookieOf } from '../helpers/suite';

let server: RedisServer;
let redis: Redis;
let watch: Awaited<ReturnType<typeof watchCommands>>;
/** A signed-in request that needs no refresh: one round trip of plain reads (the refresh is due once per touchAfter). */
const READ = ['HGETALL', 'HGET'];
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.port, server.host);
  watch = await watchCommands(server);
  watch.follow(/addr=(\S+)/.exec(String(await redis.client('INFO')))![1]);
});

afterAll(async () => {
  watch.stop();
  redis.disconnect();
  await server.destroy();
});

/** The command names the app's client sent while `run` ran. */
const commandsDuring = (run: () => Promise<unknown>): Promise<string[]> => watch.commandsDuring((marker) => redis.echo(marker), run);

describe('round trips (MONITOR)', () => {
  let app: ReturnType<typeof buildApp>['app'];
  let sessions: ReturnType<typeof buildApp>['sessions'];

  beforeAll(async () => {
    ({ app, sessions } = buildApp(redis, { keyPrefix: 'rt:', maxSessions: 5 }, (routesApp, manager) => {
      routesApp.get('/sensitive', manager.requireRecentLogin(60), (_req, res) => res.json({ ok: true }));
      routesApp.post('/reauthenticate', async (req, res, next) => {
        try {
          res.json(await manager.reauthenticate(req, res));
        } catch (err) {
          next(err);
        }
      });
    }));
    // Load every script once, so NOSCRIPT fallbacks do not show up below.
    const warm = sessionCookieOf((await request(app).post('/login').send({ userId: 'warm' })).headers['set-cookie']);
    await request(app).get('/sensitive').set('Cookie', warm);
    await request(app).post('/data').set('Cookie', warm).send({ theme: 'x' });
    await request(app).post('/reauthenticate').set('Cookie', warm);
    await sessions.listSessions('warm');
    await sessions.revokeUser('warm');
    const again = sessionCookieOf((await request(app).post('/login').send({ userId: 'warm' })).headers['set-cookie']);
    await request(app).post('/logout').set('Cookie', again);
  });

  test('login is one EVALSHA, whatever the limit does (nothing to end, displacing, refusing)', async () => {
    expect(await commandsDuring(() => request(app).post('/login').send({ userId: 'rt-login' }))).toEqual(['EVALSHA']);
    for (let i = 0; i < 4; i++) await request(app).post('/login').send({ userId: 'rt-login' });
    expect(await commandsDuring(() => request(app).post('/login').send({ userId: 'rt-login' }))).toEqual(['EVALSHA']);
    const { app: rejecting } = buildApp(redis, { keyPrefix: 'rt:', maxSessions: 5, onLimit: 'reject-new' });
    const refused = await commandsDuring(async () => {
      expect((await request(rejecting).post('/login').send({ userId: 'rt-login' })).status).toBe(409);
    });
    expect(refused).toEqual(['EVALSHA']);
  });

  test('a signed-in request is one round trip of plain reads with maxSessions 5, a step-up guarded one too', async () => {
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'rt-request' })).headers['set-cookie']);
    for (let i = 0; i < 4; i++) await request(app).post('/login').send({ userId: 'rt-request' });
    expect(await commandsDuring(() => request(app).get('/me').set('Cookie', cookie))).toEqual(READ);
    expect(await commandsDuring(() => request(app).get('/sensitive').set('Cookie', cookie))).toEqual(READ);
  });

  test('listSessions, revokeSession and revokeUser are one EVALSHA each', async () => {
    for (let i = 0; i < 3; i++) await request(app).post('/login').send({ userId: 'rt-manage' });
    let listed: Awaited<ReturnType<typeof sessions.listSessions>> = [];
    expect(await commandsDuring(async () => {
      listed = await sessions.listSessions('rt-manage');
    })).toEqual(['EVALSHA']);
    expect(await commandsDuring(() => sessions.revokeSession('rt-manage', listed[0].sessionId))).toEqual(['EVALSHA']);
    expect(await commandsDuring(() => sessions.revokeUser('rt-manage', { except: listed[1].sessionId }))).toEqual(['EVALSHA']);
    expect(await commandsDuring(() => sessions.revokeUser('rt-manage'))).toEqual(['EVALSHA']);
  });

  test('reauthenticate and logout cost the request\'s reads plus one EVALSHA', async () => {
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'rt-step' })).headers['set-cookie']);
    let fresh = '';
    expect(await commandsDuring(async () => {
      fresh = sessionCookieOf((await request(app).post('/reauthenticate').set('Cookie', cookie)).headers['set-cookie']);
    })).toEqual([...READ, 'EVALSHA']);
    expect(await commandsDuring(() => request(app).post('/logout').set('Cookie', fresh))).toEqual([...READ, 'EVALSHA']);
  });

  test('scanSessions is SCAN on the server plus one EVALSHA per user, never KEYS', async () => {
    const { app: scanApp, sessions: scanner } = buildApp(redis, { keyPrefix: 'rt-scan:' });
    for (let i = 0; i < 30; i++) await request(scanApp).post('/login').send({ userId: `scan-${i}` });
    let count = 0;
    const commands = await commandsDuring(async () => {
      for await (const _session of scanner.scanSessions()) count++;
    });
    expect(count).toBe(30);
    expect(commands.filter((name) => name === 'EVALSHA')).toHaveLength(30);
    expect(commands.filter((name) => name === 'SCAN').length).toBeGreaterThanOrEqual(1);
    expect(commands.filter((name) => name !== 'EVALSHA' && name !== 'SCAN')).toEqual([]);
  });
});

describe('memory per user', () => {
  const USERS = 300;
  const CURL = 'curl/8.5.0';

  // MONITOR's output buffer would count as used memory.
  beforeAll(() => watch.stop());

  /** Bytes of INFO used_memory. */
  async function usedMemory(): Promise<number> {
    return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  }

  /** MEMORY USAGE (exact: SAMPLES 0) summed over every key under `prefix`, per user. */
  async function memoryUsagePerUser(prefix: string, users: number): Promise<number> {
    const keys = await redis.keys(`${prefix}*`);
    let total = 0;
    for (const key of keys) total += Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
    return total / users;
  }

  /** Signs `USERS` users in `perUser` times each through the app; returns used_memory growth per user. */
  async function fill(prefix: string, options: Parameters<typeof buildApp>[1], perUser: number, userAgent = BROWSER): Promise<number> {
    const { app } = buildApp(redis, { keyPrefix: prefix, ...options });
    const before = await usedMemory();
    for (let u = 0; u < USERS; u += 20) {
      await Promise.all(Array.from({ length: 20 }, async (_, k) => {
        for (let s = 0; s < perUser; s++) await request(app).post('/login').set('User-Agent', userAgent).send({ userId: `user-${u + k}@example.com` });
      }));
    }
    return ((await usedMemory()) - before) / USERS;
  }

  /** OBJECT ENCODING of one session record under `prefix`. */
  async function recordEncoding(prefix: string): Promise<string> {
    const [key] = (await redis.keys(`${prefix}*`)).filter(isSessionKey);
    return String(await redis.object('ENCODING', key));
  }

  // Key prefixes as long as the default `ess:`: a record's key name (prefix + 39 characters) fits a 48-byte allocation up to 5.
  test('client details cost about their own bytes; maxSessions 5 with 5 devices about 5 times one session', async () => {
    const bareGrowth = await fill('mbr:', { recordClient: false }, 1);
    const bareUsage = await memoryUsagePerUser('mbr:', USERS);
    const curlGrowth = await fill('mcu:', {}, 1, CURL);
    const curlUsage = await memoryUsagePerUser('mcu:', USERS);
    const oneGrowth = await fill('mon:', {}, 1);
    const oneUsage = await memoryUsagePerUser('mon:', USERS);
    const fiveGrowth = await fill('mfi:', { maxSessions: 5 }, 5);
    const fiveUsage = await memoryUsagePerUser('mfi:', USERS);
    const figures = {
      'maxSessions 1, recordClient false': [bareUsage, bareGrowth],
      [`maxSessions 1, User-Agent ${CURL}, IP`]: [curlUsage, curlGrowth],
      'maxSessions 1, Chrome User-Agent (111 chars), IP': [oneUsage, oneGrowth],
      'maxSessions 5 with 5 sessions, Chrome User-Agent, IP': [fiveUsage, fiveGrowth],
    };
    process.stdout.write(`Redis bytes per user (${USERS} users):\n${Object.entries(figures)
      .map(([name, [usage, growth]]) => `  ${name}: MEMORY USAGE ${usage.toFixed(0)} B, used_memory growth ${growth.toFixed(0)} B`).join('\n')}\n`);

    // A short User-Agent and the IP cost their bytes and little more: the record stays a listpack.
    expect(await recordEncoding('mcu:')).toBe('listpack');
    expect(curlUsage - bareUsage).toBeLessThan(CURL.length + '::ffff:127.0.0.1'.length + 32);
    // A browser's User-Agent is longer than hash-max-listpack-value (64), so it is stored in 64-byte pieces:
    // the record stays a listpack and the User-Agent costs about its own bytes.
    expect(await recordEncoding('mon:')).toBe('listpack');
    expect(oneUsage - bareUsage).toBeLessThan(BROWSER.length + '::ffff:127.0.0.1'.length + 48);
    expect(fiveUsage).toBeLessThan(5 * oneUsage);
    expect(fiveUsage).toBeGreaterThan(4 * oneUsage);
  }, 120_000); // 2,100 sign-ins over HTTP: about 10 s alone, several times that on a loaded machine
});
