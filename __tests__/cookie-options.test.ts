/**
 * Cookie hardening options: `cookie.persistent`, the `__Host-` default name with `secure: true`,
 * the one-time warning when `secure: 'auto'` sends a cookie without Secure to a client that is not
 * local, and signing-secret rotation through cookie-parser's array of secrets.
 */
import { createHmac } from 'node:crypto';
import cookieParser from 'cookie-parser';
import express from 'express';
import request from 'supertest';
import { createSessionManager, type SessionManagerOptions } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { sessionCookieOf, signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS } from './helpers/targets';

const NEW_SECRET = 'the-new-cookie-signing-secret-0123456789ab';

describe.each(BEHAVIOUR_TARGETS)('cookie options ($name)', (target) => {
  const ctx = useApp(target);

  /** A minimal app wired like the README, sharing the suite's Redis and key prefix. */
  function appWith(options: Partial<SessionManagerOptions>, secret: string | string[] = TEST_SECRET) {
    const sessions = createSessionManager({ redis: ctx.redis, keyPrefix: ctx.prefix, ...options });
    const app = express();
    app.use(cookieParser(secret));
    app.use(express.json());
    app.use(sessions.middleware());
    app.post('/login', async (req, res, next) => {
      try {
        await sessions.login(req, res, req.body.userId);
        res.end();
      } catch (err) {
        next(err);
      }
    });
    app.get('/me', sessions.requireSession(), (req, res) => res.json({ userId: req.session!.userId }));
    return app;
  }

  test('persistent (the default) sets Expires at the absolute deadline; persistent: false makes a browser-session cookie', async () => {
    const persistent = await request(ctx.app).post('/login').send({ userId: 'persistent-user' });
    expect(String(persistent.headers['set-cookie'])).toMatch(/; Expires=/);
    const app = appWith({ cookie: { persistent: false } });
    const res = await request(app).post('/login').send({ userId: 'browser-session-user' });
    const line = String(res.headers['set-cookie']);
    expect(line).toMatch(/^ess_sid=s%3A/);
    expect(line).not.toMatch(/Expires=|Max-Age=/i);
    expect((await request(app).get('/me').set('Cookie', sessionCookieOf(res.headers['set-cookie']))).body.userId).toBe('browser-session-user');
  });

  test('cookie.persistent must be a boolean', () => {
    expect(() => createSessionManager({ redis: ctx.redis, cookie: { persistent: 'no' as never } })).toThrow(/`cookie.persistent` must be true or false/);
  });

  test('with secure: true and no name the cookie is __Host-ess_sid; otherwise ess_sid or the given name', async () => {
    const host = appWith({ cookie: { secure: true } });
    const res = await request(host).post('/login').send({ userId: 'host-default' });
    expect(String(res.headers['set-cookie'])).toMatch(/^__Host-ess_sid=s%3A.*; Path=\/;.*HttpOnly; Secure; SameSite=Lax/);
    expect(String(res.headers['set-cookie'])).not.toMatch(/Domain=/);
    const cookie = sessionCookieOf(res.headers['set-cookie'], '__Host-ess_sid');
    expect((await request(host).get('/me').set('Cookie', cookie)).body.userId).toBe('host-default');

    const named = await request(appWith({ cookie: { secure: true, name: 'sid' } })).post('/login').send({ userId: 'named' });
    expect(String(named.headers['set-cookie'])).toMatch(/^sid=/);
    const scoped = await request(appWith({ cookie: { secure: true, domain: 'example.com' } })).post('/login').send({ userId: 'scoped' });
    expect(String(scoped.headers['set-cookie'])).toMatch(/^ess_sid=/);
    const auto = await request(appWith({})).post('/login').send({ userId: 'auto' });
    expect(String(auto.headers['set-cookie'])).toMatch(/^ess_sid=/);
  });

  describe("secure: 'auto' without Secure", () => {
    let warn: jest.SpyInstance;
    beforeEach(() => {
      warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    });
    afterEach(() => warn.mockRestore());
    const warnings = () => warn.mock.calls.filter((call) => (call[1] as { code?: string } | undefined)?.code === 'ESS_AUTO_COOKIE_NOT_SECURE');

    test('warns once, naming trust proxy, for a client that is not on loopback', async () => {
      const app = appWith({});
      app.set('trust proxy', 'loopback');
      await request(app).post('/login').set('X-Forwarded-For', '203.0.113.9').send({ userId: 'remote-1' }).expect(200);
      await request(app).post('/login').set('X-Forwarded-For', '198.51.100.4').send({ userId: 'remote-2' }).expect(200);
      expect(warnings()).toHaveLength(1);
      expect(String(warnings()[0]![0])).toMatch(/trust proxy/);
    });

    test('warns for a request that came through a proxy Express does not trust', async () => {
      const app = appWith({});
      const res = await request(app).post('/login').set('X-Forwarded-Proto', 'https').send({ userId: 'proxied' });
      expect(String(res.headers['set-cookie'])).not.toMatch(/Secure/);
      expect(warnings()).toHaveLength(1);
      expect(String(warnings()[0]![0])).toMatch(/app\.set\('trust proxy'/);
    });

    test('stays quiet for loopback over plain HTTP, for HTTPS, and when Secure is configured', async () => {
      await request(appWith({})).post('/login').send({ userId: 'local' }).expect(200);
      const trusted = appWith({});
      trusted.set('trust proxy', 'loopback');
      await request(trusted).post('/login').set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', '203.0.113.9').send({ userId: 'tls' }).expect(200);
      const secure = appWith({ cookie: { secure: true } });
      secure.set('trust proxy', 'loopback');
      await request(secure).post('/login').set('X-Forwarded-For', '203.0.113.9').send({ userId: 'always-secure' }).expect(200);
      expect(warnings()).toEqual([]);
    });
  });

  test('rotating the cookie-parser secret: cookies signed with the old one keep working, new ones use the first', async () => {
    const old = await signIn(ctx.app, 'rotation-user');
    const rotated = appWith({}, [NEW_SECRET, TEST_SECRET]);
    expect((await request(rotated).get('/me').set('Cookie', old)).body.userId).toBe('rotation-user');

    const res = await request(rotated).post('/login').send({ userId: 'rotation-user-2' });
    const fresh = sessionCookieOf(res.headers['set-cookie']);
    const signed = decodeURIComponent(fresh.slice(fresh.indexOf('=') + 1)).slice(2);
    const value = signed.slice(0, signed.lastIndexOf('.'));
    const signature = signed.slice(signed.lastIndexOf('.') + 1);
    expect(signature).toBe(createHmac('sha256', NEW_SECRET).update(value).digest('base64').replace(/=+$/, ''));
    expect((await request(rotated).get('/me').set('Cookie', fresh)).body.userId).toBe('rotation-user-2');
    // Once the old secret is dropped, cookies signed with it are no longer accepted.
    const newOnly = appWith({}, NEW_SECRET);
    expect((await request(newOnly).get('/me').set('Cookie', old)).status).toBe(401);
    expect((await request(newOnly).get('/me').set('Cookie', fresh)).status).toBe(200);
  });
});
