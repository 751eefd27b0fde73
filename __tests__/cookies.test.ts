/**
 * The cookie and the token: secure flags by default, SESSION_INVALID (never a 500) for anything
 * this package did not issue, no personal data in the cookie and no token in Redis.
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import request from 'supertest';
import { createSessionManager } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { keysWithPrefix, rawValueOf, signCookieValue, signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS, TARGETS, uniquePrefix } from './helpers/targets';

describe.each(BEHAVIOUR_TARGETS)('the session cookie ($name)', (target) => {
  const ctx = useApp(target);

  test('is HttpOnly, SameSite=Lax, Path=/ and not Secure over plain HTTP', async () => {
    const res = await request(ctx.app).post('/login').send({ userId: 'flags' });
    const line = String(res.headers['set-cookie']);
    expect(line).toMatch(/^ess_sid=s%3A/);
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    expect(line).toMatch(/; Path=\//);
    expect(line).not.toMatch(/; Secure/);
  });

  test('is Secure when the request came over HTTPS (behind a trusted proxy)', async () => {
    ctx.app.set('trust proxy', 'loopback');
    try {
      const res = await request(ctx.app).post('/login').set('X-Forwarded-Proto', 'https').send({ userId: 'tls' });
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      ctx.app.set('trust proxy', false);
    }
  });

  test('carries no user id and its token never reaches Redis', async () => {
    const userId = 'mallory@example.com';
    const cookie = await signIn(ctx.app, userId);
    const raw = rawValueOf(cookie);
    expect(decodeURIComponent(cookie)).not.toContain(userId);
    const token = raw.split('.')[1];
    expect(token).toHaveLength(43);
    const tokenBytes = Buffer.from(token, 'base64url');
    expect(tokenBytes).toHaveLength(32);
    const keys = await keysWithPrefix(ctx.redis, ctx.prefix);
    for (const key of keys) {
      expect(key).not.toContain(token);
      const value =
        (await ctx.redis.type(key)) === 'hash'
          ? Buffer.concat(Object.entries(await ctx.redis.hgetallBuffer(key)).flatMap(([k, v]) => [Buffer.from(k), v]))
          : (await ctx.redis.getBuffer(key))!;
      expect(value.includes(Buffer.from(token))).toBe(false);
      expect(value.includes(tokenBytes)).toBe(false);
    }
  });

  test('tokens differ on every login', async () => {
    const a = rawValueOf(await signIn(ctx.app, 'same-user'));
    const b = rawValueOf(await signIn(ctx.app, 'same-user'));
    expect(a.split('.')[0]).toBe(b.split('.')[0]);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  const bad: [string, () => Promise<string>][] = [
    ['a tampered signature', async () => {
      const cookie = await signIn(ctx.app, 'tamper');
      const i = cookie.length - 3;
      return cookie.slice(0, i) + (cookie[i] === 'A' ? 'B' : 'A') + cookie.slice(i + 1);
    }],
    ['a tampered value with the old signature', async () => {
      const cookie = await signIn(ctx.app, 'tamper2');
      return cookie.replace('s%3A', 's%3AX');
    }],
    ['garbage', async () => 'ess_sid=%%%garbage%%%'],
    ['an empty value', async () => 'ess_sid='],
    ['an unsigned value of the right shape', async () => `ess_sid=${rawValueOf(await signIn(ctx.app, 'unsigned'))}`],
    ['a correctly signed value of the wrong shape', async () => `ess_sid=${signCookieValue('not-a-session')}`],
    ['a 5 KB cookie', async () => `ess_sid=${signCookieValue('A'.repeat(5 * 1024))}`],
    ['a 5 KB unsigned cookie', async () => `ess_sid=${'x'.repeat(5 * 1024)}`],
  ];

  test.each(bad)('with %s gets SESSION_INVALID, never a 500', async (_name, make) => {
    const cookie = await make();
    const guarded = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(guarded.status).toBe(401);
    expect(guarded.body.error.code).toBe('SESSION_INVALID');
    expect(String(guarded.headers['set-cookie'])).toMatch(/ess_sid=;/);
    const open = await request(ctx.app).get('/public').set('Cookie', cookie);
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ signedIn: false, code: 'SESSION_INVALID' });
  });

  test('a well-formed signed cookie that was never issued gets SESSION_EXPIRED', async () => {
    const forged = `ess_sid=${signCookieValue(`${'A'.repeat(16)}.${'B'.repeat(43)}`)}`;
    const res = await request(ctx.app).get('/me').set('Cookie', forged);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_EXPIRED');
  });

  test('other cookies do not disturb the session', async () => {
    const cookie = await signIn(ctx.app, 'crowded');
    const res = await request(ctx.app).get('/me').set('Cookie', `a=1; ${cookie}; b=%%; c=`);
    expect(res.status).toBe(200);
  });
});

describe('cookie options', () => {
  test('a __Host- name with secure: true issues a Secure cookie', async () => {
    const redis = TARGETS[0].ioredis();
    try {
      const sessions = createSessionManager({ redis, keyPrefix: uniquePrefix(), cookie: { name: '__Host-sid', secure: true } });
      const app = express();
      app.use(cookieParser(TEST_SECRET));
      app.use(sessions.middleware());
      app.post('/login', async (req, res) => {
        await sessions.login(req, res, 'host-prefix');
        res.end();
      });
      const res = await request(app).post('/login');
      expect(String(res.headers['set-cookie'])).toMatch(/^__Host-sid=.*; Path=\/;.*HttpOnly; Secure; SameSite=Lax/);
    } finally {
      await redis.quit();
    }
  });
});
