/**
 * Step-up: `req.session.authenticatedAt`, `requireRecentLogin(maxAgeSeconds, { onReject })` for
 * sensitive routes, and `reauthenticate(req, res)`, which issues a new cookie for the same session
 * (same `sessionId`, same data) and makes the old cookie stop working.
 */
import Redis from 'ioredis';
import request from 'supertest';
import { createSessionManager } from '../../lib';
import { sessionCookieOf, signIn, sleep, useApp } from '../helpers/suite';
import { TARGETS } from '../helpers/targets';

describe.each(TARGETS)('step-up ($name)', (target) => {
  const ctx = useApp(target, { maxSessions: 3 }, (app, sessions) => {
    app.get('/sensitive', sessions.requireRecentLogin(1), (req, res) => res.json({ ok: true, userId: req.session!.userId }));
    app.get('/sensitive-page', sessions.requireRecentLogin(1, {
      onReject: (_req, res, error) => res.redirect(303, `/confirm-password?code=${error.code}`),
    }), (_req, res) => res.json({ ok: true }));
    app.post('/reauthenticate', async (req, res, next) => {
      try {
        res.json(await sessions.reauthenticate(req, res));
      } catch (err) {
        next(err);
      }
    });
  });

  test('at sign-in authenticatedAt is the sign-in time, and a sensitive route lets the session through', async () => {
    const cookie = await signIn(ctx.app, 'fresh');
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body.authenticatedAt).toBe(me.body.createdAt);
    const res = await request(ctx.app).get('/sensitive').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, userId: 'fresh' });
  });

  test('once the sign-in is older than maxAgeSeconds: 401 REAUTHENTICATION_REQUIRED, or onReject; the session stays live', async () => {
    const cookie = await signIn(ctx.app, 'stale');
    await sleep(1200);
    const res = await request(ctx.app).get('/sensitive').set('Cookie', cookie);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'REAUTHENTICATION_REQUIRED', message: 'Please confirm your password to continue.' } });
    expect(res.headers['set-cookie']).toBeUndefined();
    const page = await request(ctx.app).get('/sensitive-page').set('Cookie', cookie);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/confirm-password?code=REAUTHENTICATION_REQUIRED');
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(200);
  });

  test('reauthenticate issues a new cookie for the same session: same sessionId and data, new authenticatedAt; the old cookie stops working', async () => {
    const oldCookie = await signIn(ctx.app, 'stepper', { theme: 'dark', cart: ['book'] });
    const before = (await request(ctx.app).get('/me').set('Cookie', oldCookie)).body;
    await sleep(1200);
    expect((await request(ctx.app).get('/sensitive').set('Cookie', oldCookie)).status).toBe(401);

    const reauth = await request(ctx.app).post('/reauthenticate').set('Cookie', oldCookie);
    expect(reauth.status).toBe(200);
    const newCookie = sessionCookieOf(reauth.headers['set-cookie']);
    expect(newCookie).not.toBe(oldCookie);
    expect(String(reauth.headers['set-cookie'])).toMatch(/HttpOnly/);
    expect(reauth.body.sessionId).toBe(before.sessionId);
    expect(reauth.body.createdAt).toBe(before.createdAt);
    expect(Date.parse(reauth.body.authenticatedAt)).toBeGreaterThanOrEqual(Date.parse(before.createdAt) + 1000);

    const after = await request(ctx.app).get('/me').set('Cookie', newCookie);
    expect(after.body).toMatchObject({ userId: 'stepper', sessionId: before.sessionId, theme: 'dark', cart: ['book'], authenticatedAt: reauth.body.authenticatedAt });
    expect((await request(ctx.app).get('/sensitive').set('Cookie', newCookie)).status).toBe(200);

    const old = await request(ctx.app).get('/me').set('Cookie', oldCookie);
    expect(old.status).toBe(401);
    expect(String(old.headers['set-cookie'])).toMatch(/ess_sid=;/);
    const listed = await ctx.sessions.listSessions('stepper');
    expect(listed.map((s) => s.sessionId)).toEqual([before.sessionId]);
  });

  test('reauthenticate keeps the other sessions of the user and does not count as a new sign-in', async () => {
    const a = await signIn(ctx.app, 'multi');
    const b = await signIn(ctx.app, 'multi');
    const c = await signIn(ctx.app, 'multi');
    const reauth = await request(ctx.app).post('/reauthenticate').set('Cookie', b);
    expect(reauth.status).toBe(200);
    for (const cookie of [a, c, sessionCookieOf(reauth.headers['set-cookie'])]) {
      expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(200);
    }
    expect(await ctx.sessions.listSessions('multi')).toHaveLength(3);
  });

  test('a revoked session cannot be re-authenticated back to life', async () => {
    const cookie = await signIn(ctx.app, 'no-revival');
    const { sessionId } = (await request(ctx.app).get('/me').set('Cookie', cookie)).body;
    await ctx.sessions.revokeSession('no-revival', sessionId);
    const res = await request(ctx.app).post('/reauthenticate').set('Cookie', cookie);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_REVOKED');
    expect(await ctx.sessions.listSessions('no-revival')).toEqual([]);
  });

  test('without a session: requireRecentLogin answers like requireSession, reauthenticate rejects with the reason', async () => {
    const guarded = await request(ctx.app).get('/sensitive');
    expect(guarded.status).toBe(401);
    expect(guarded.body.error.code).toBe('SESSION_MISSING');
    const reauth = await request(ctx.app).post('/reauthenticate');
    expect(reauth.status).toBe(401);
    expect(reauth.body.error.code).toBe('SESSION_MISSING');
    expect(reauth.headers['set-cookie']).toBeUndefined();
  });
});

test('requireRecentLogin refuses a maximum age it cannot use, when the route is built', async () => {
  const redis = new Redis({ lazyConnect: true });
  const sessions = createSessionManager({ redis });
  for (const bad of [0, -1, Number.NaN, Infinity, '60' as unknown as number]) {
    expect(() => sessions.requireRecentLogin(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  }
  expect(() => sessions.requireRecentLogin(60, { onReject: 'no' as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  redis.disconnect();
});
