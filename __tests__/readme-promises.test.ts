/**
 * README promises that had no test of their own (issue 14, "The tests keep their word"):
 * logout() after the body started, revokeUser()'s INVALID_ARGUMENT, the cookie attributes,
 * requireSession({ onReject }), the default storeTimeoutMs, and tokens never reaching onError.
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import Redis from 'ioredis';
import request from 'supertest';
import { createSessionManager, SessionError, type SessionManagerOptions } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { isIndexKey, keysWithPrefix, rawValueOf, sessionCookieOf } from './helpers/suite';
import { TARGETS, uniquePrefix } from './helpers/targets';

const redis = TARGETS[0].connect() as Redis;
afterAll(() => redis.quit());

function appWith(options: Partial<SessionManagerOptions> = {}, client: Redis = redis) {
  const prefix = uniquePrefix();
  const sessions = createSessionManager({ redis: client, keyPrefix: prefix, ...options });
  const app = express();
  app.use(cookieParser(TEST_SECRET));
  app.use(sessions.middleware());
  app.post('/login', async (req, res) => {
    await sessions.login(req, res, String(req.query.user ?? 'u'));
    res.end();
  });
  app.get('/me', sessions.requireSession(), (_req, res) => res.end('ok'));
  app.get('/page', sessions.requireSession({ onReject: (_req, res, error) => res.redirect(303, `/sign-in?why=${error.code}`) }), (_req, res) => res.end('page'));
  app.post('/late-logout', async (req, res) => {
    res.status(200).write('started');
    try {
      await sessions.logout(req, res);
      res.end(' none');
    } catch (err) {
      res.end(` ${(err as SessionError).code}`);
    }
  });
  return { app, sessions, prefix };
}

test('logout() after the body started rejects with HEADERS_SENT, and the session is ended in Redis all the same', async () => {
  const { app, prefix } = appWith();
  const cookie = sessionCookieOf((await request(app).post('/login?user=late-out')).headers['set-cookie']);
  const res = await request(app).post('/late-logout').set('Cookie', cookie);
  expect(res.text).toBe('started HEADERS_SENT');
  // The session record is gone; the user index keeps only a tombstone saying it was signed out.
  const left = await keysWithPrefix(redis, prefix);
  expect(left.filter((key) => !isIndexKey(key))).toEqual([]);
  for (const index of left) expect(Object.values(await redis.hgetall(index))).toEqual([expect.stringMatching(/^L\d+$/)]);
  expect((await request(app).get('/me').set('Cookie', cookie)).body.error.code).toBe('SESSION_EXPIRED');
});

test.each([['an empty id', ''], ['a number', 42], ['null', null], ['1025 characters', 'x'.repeat(1025)]])('revokeUser() with %s rejects with INVALID_ARGUMENT', async (_name, userId) => {
  const { sessions } = appWith();
  await expect(sessions.revokeUser(userId as string)).rejects.toMatchObject({ name: 'SessionError', code: 'INVALID_ARGUMENT', status: 400 });
});

test('Set-Cookie carries the configured SameSite, Path and Domain, and an absolute Expires at the absolute deadline', async () => {
  const { app } = appWith({ absoluteTimeout: 3600, cookie: { sameSite: 'strict', path: '/app', domain: 'example.test', secure: true } });
  const before = Date.now();
  const res = await request(app).post('/login').set('X-Forwarded-Proto', 'https');
  const line = ([] as string[]).concat(res.headers['set-cookie'])[0];
  expect(line).toMatch(/; Path=\/app/);
  expect(line).toMatch(/; Domain=example\.test/);
  expect(line).toMatch(/; SameSite=Strict/);
  expect(line).toMatch(/; HttpOnly/);
  const expires = Date.parse(/; Expires=([^;]+)/.exec(line)![1]);
  // Expires is the absolute deadline (HTTP dates have whole seconds).
  expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000 - 1000);
  expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
});

test('requireSession({ onReject }) lets the app answer a request without a session, with the reason', async () => {
  const { app } = appWith();
  const res = await request(app).get('/page');
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/sign-in?why=SESSION_MISSING');
});

describe('with a private Redis that stops answering', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis({ host: '127.0.0.1', port: server.port });
  });
  afterAll(async () => {
    client.disconnect();
    await server.destroy();
  });

  test('the default storeTimeoutMs is 1000: a paused Redis is answered 503 after about 1 s, and onError never sees the token', async () => {
    const errors: SessionError[] = [];
    const { app } = appWith({ onError: (err) => errors.push(err) }, client);
    const cookie = sessionCookieOf((await request(app).post('/login?user=paused')).headers['set-cookie']);
    await client.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const started = Date.now();
    const res = await request(app).get('/me').set('Cookie', cookie);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(took).toBeGreaterThanOrEqual(1000);
    // The timer answers: 1000 ms plus scheduling on a loaded machine.
    expect(took).toBeLessThan(1000 + 400);
    expect(errors.map((e) => e.code)).toEqual(['SESSION_STORE_UNAVAILABLE']);
    const token = rawValueOf(cookie).split('.')[1];
    const seen = JSON.stringify(errors.map((e) => [e.message, e.stack, String(e.cause), (e.cause as Error)?.stack]));
    expect(token.length).toBeGreaterThan(20);
    expect(seen).not.toContain(token);
    expect(seen).not.toContain(encodeURIComponent(token));
  });
});
