/**
 * Step-up: `req.session.authenticatedAt`, `requireRecentLogin(maxAgeSeconds, { onReject })` for
 * sensitive routes, and `reauthenticate(req, res)`, which issues a new cookie for the same session
 * (same `sessionId`, same data) and makes the old cookie stop working.
 */
import Redis from 'ioredis';
import request from 'supertest';
import { createSessionManager, type SessionError } from '../../lib';
import { sessionCookieOf, signIn, untilRedisTime, useApp, closedGate, OPEN_GATE, type Gate } from '../helpers/suite';
import { BEHAVIOUR_TARGETS } from '../helpers/targets';

/** How far a request's view of Redis's clock may trail Redis's own (plain reads and cache hits estimate it). */
const CLOCK_SLACK_MS = 100;

describe.each(BEHAVIOUR_TARGETS)('step-up ($name)', (target) => {
  /** What onError heard (a save refused during the request). */
  const heard: SessionError[] = [];
  /** A gate the gated route waits at after its session resolved: the test re-authenticates meanwhile, then opens it. */
  let gate: Gate = OPEN_GATE;
  const newGate = (): void => {
    gate = closedGate();
  };
  const ctx = useApp(target, { maxSessions: 3, onError: (err) => heard.push(err) }, (app, sessions) => {
    app.post('/gated/data', sessions.requireSession(), async (req, res) => {
      await gate.wait();
      req.session!.note = 'from the old cookie';
      res.json({ answered: true });
    });
    // A sign-in passes /sensitive (60 s) however slow the machine; /recent and /sensitive-page (0.3 s)
    // refuse it once Redis's clock is past the window (untilStale), a wait no load can cut short.
    app.get('/sensitive', sessions.requireRecentLogin(60), (req, res) => res.json({ ok: true, userId: req.session!.userId }));
    app.get('/recent', sessions.requireRecentLogin(0.3), (req, res) => res.json({ ok: true, userId: req.session!.userId }));
    app.get('/sensitive-page', sessions.requireRecentLogin(0.3, {
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

  /** Resolves once Redis's clock is past the 0.3 s window of /recent for the session behind `cookie`, with the clock estimate's slack. */
  async function untilStale(cookie: string): Promise<void> {
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    await untilRedisTime(ctx.redis, Date.parse(me.body.authenticatedAt) + 300 + CLOCK_SLACK_MS);
  }

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
    await untilStale(cookie);
    const res = await request(ctx.app).get('/recent').set('Cookie', cookie);
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
    await untilStale(oldCookie);
    expect((await request(ctx.app).get('/recent').set('Cookie', oldCookie)).status).toBe(401);

    const reauth = await request(ctx.app).post('/reauthenticate').set('Cookie', oldCookie);
    expect(reauth.status).toBe(200);
    const newCookie = sessionCookieOf(reauth.headers['set-cookie']);
    expect(newCookie).not.toBe(oldCookie);
    expect(String(reauth.headers['set-cookie'])).toMatch(/HttpOnly/);
    expect(reauth.body.sessionId).toBe(before.sessionId);
    expect(reauth.body.createdAt).toBe(before.createdAt);
    expect(Date.parse(reauth.body.authenticatedAt)).toBeGreaterThanOrEqual(Date.parse(before.createdAt) + 300);

    const after = await request(ctx.app).get('/me').set('Cookie', newCookie);
    expect(after.body).toMatchObject({ userId: 'stepper', sessionId: before.sessionId, theme: 'dark', cart: ['book'], authenticatedAt: reauth.body.authenticatedAt });
    expect((await request(ctx.app).get('/sensitive').set('Cookie', newCookie)).status).toBe(200);

    // The old cookie is refused as rotated, and its answer leaves the browser's (new) cookie alone.
    const old = await request(ctx.app).get('/me').set('Cookie', oldCookie);
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('SESSION_ROTATED');
    expect(old.headers['set-cookie']).toBeUndefined();
    expect((await request(ctx.app).get('/sensitive').set('Cookie', oldCookie)).body.error.code).toBe('SESSION_ROTATED');
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

  test('a request in flight with the old cookie while reauthenticate() rotates it never clears the new cookie', async () => {
    const login = await request(ctx.app).post('/login').send({ userId: 'in-flight', data: { note: 'before' } });
    const oldCookie = sessionCookieOf(login.headers['set-cookie']);
    newGate();
    heard.length = 0;
    // Sent with the old cookie; resolved as live, then held while another request of the browser rotates the token.
    const pending = request(ctx.app).post('/gated/data').set('Cookie', oldCookie).then((res) => res);
    await gate.reached;
    const reauth = await request(ctx.app).post('/reauthenticate').set('Cookie', oldCookie);
    expect(reauth.status).toBe(200);
    const newCookie = sessionCookieOf(reauth.headers['set-cookie']);
    // A request sent with the old cookie that reaches Redis after the rotation.
    const late = await request(ctx.app).get('/me').set('Cookie', oldCookie);
    gate.open();
    const held = await pending;

    expect(late.status).toBe(401);
    expect(late.body.error).toEqual({ code: 'SESSION_ROTATED', message: 'Your session was renewed by another request. Please try again.' });
    expect(held.status).toBe(200);
    // Neither answer sets the cookie: a browser that already took the new cookie keeps it.
    for (const res of [late, held]) expect(res.headers['set-cookie']).toBeUndefined();
    // The held request's change was refused (its token no longer holds the session) and reported as rotated.
    expect(heard.map((err) => err.code)).toEqual(['SESSION_ROTATED']);
    const me = await request(ctx.app).get('/me').set('Cookie', newCookie);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: 'in-flight', sessionId: login.body.sessionId, note: 'before' });
  });

  test('a second reauthenticate() with the old cookie is refused as rotated and keeps the cookie; the session stays one', async () => {
    const oldCookie = await signIn(ctx.app, 'twice');
    const first = await request(ctx.app).post('/reauthenticate').set('Cookie', oldCookie);
    expect(first.status).toBe(200);
    const second = await request(ctx.app).post('/reauthenticate').set('Cookie', oldCookie);
    expect(second.status).toBe(401);
    expect(second.body.error.code).toBe('SESSION_ROTATED');
    expect(second.headers['set-cookie']).toBeUndefined();
    expect((await request(ctx.app).get('/me').set('Cookie', sessionCookieOf(first.headers['set-cookie']))).status).toBe(200);
    expect(await ctx.sessions.listSessions('twice')).toHaveLength(1);
    // Rotated is not a way back in: the old cookie cannot save. Signing out with it ends the session
    // (logout-rotated.test.ts): a sign-out never answers success while the session lives.
    expect((await request(ctx.app).post('/data').set('Cookie', oldCookie).send({ theme: 'x' })).body.error.code).toBe('SESSION_ROTATED');
    expect(await ctx.sessions.listSessions('twice')).toHaveLength(1);
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
