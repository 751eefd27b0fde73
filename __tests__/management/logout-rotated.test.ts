/**
 * `logout()` with the cookie `reauthenticate()` replaced (a sign-out clicked during a re-authentication)
 * never answers success while the session lives: it ends the session the old cookie belonged to, or, when
 * that session cannot be found from the old cookie, refuses with SESSION_ROTATED and keeps the cookie.
 */
import request from 'supertest';
import { sessionCookieOf, signIn, useApp, closedGate, OPEN_GATE, type Gate } from '../helpers/suite';
import { CACHED_TARGETS, TARGETS } from '../helpers/targets';

describe.each([TARGETS[0], ...CACHED_TARGETS])('logout with a rotated cookie ($name)', (target) => {
  let gate: Gate = OPEN_GATE;
  const newGate = (): void => {
    gate = closedGate();
  };
  const ctx = useApp(target, { maxSessions: 3 }, (app, sessions) => {
    app.post('/reauthenticate', (req, res, next) => {
      sessions.reauthenticate(req, res).then((session) => res.json(session), next);
    });
    // Resolved with the old cookie, then held while another request of the browser re-authenticates.
    app.post('/gated/logout', async (req, res, next) => {
      await gate.wait();
      sessions.logout(req, res).then(() => res.status(204).end(), next);
    });
  });

  const reauthenticate = async (cookie: string): Promise<string> => {
    const res = await request(ctx.app).post('/reauthenticate').set('Cookie', cookie);
    expect(res.status).toBe(200);
    return sessionCookieOf(res.headers['set-cookie']);
  };
  const statusWith = async (cookie: string): Promise<number> => (await request(ctx.app).get('/me').set('Cookie', cookie)).status;

  test('a sign-out that resolved before the rotation ends the session the new cookie holds', async () => {
    const oldCookie = await signIn(ctx.app, 'in-flight-out');
    newGate();
    const pending = request(ctx.app).post('/gated/logout').set('Cookie', oldCookie).then((res) => res);
    await gate.reached;
    const newCookie = await reauthenticate(oldCookie);
    gate.open();
    const out = await pending;
    expect(out.status).toBe(204);
    expect(await statusWith(newCookie)).toBe(401);
    expect(await ctx.sessions.listSessions('in-flight-out')).toEqual([]);
  });

  test('a sign-out sent with the old cookie after the rotation ends the session too', async () => {
    const oldCookie = await signIn(ctx.app, 'late-out');
    const other = await signIn(ctx.app, 'late-out');
    const newCookie = await reauthenticate(oldCookie);
    const out = await request(ctx.app).post('/logout').set('Cookie', oldCookie);
    expect(out.status).toBe(204);
    expect(await statusWith(newCookie)).toBe(401);
    // Only that session: the user's other session lives on.
    expect(await statusWith(other)).toBe(200);
    expect(await ctx.sessions.listSessions('late-out')).toHaveLength(1);
  });

  test('a cookie two rotations old cannot find the session: refused with SESSION_ROTATED, cookie kept, session live', async () => {
    const first = await signIn(ctx.app, 'twice-out');
    const second = await reauthenticate(first);
    const third = await reauthenticate(second);
    const out = await request(ctx.app).post('/logout').set('Cookie', second);
    expect(out.status).toBe(401);
    expect(out.body.error.code).toBe('SESSION_ROTATED');
    expect(out.headers['set-cookie']).toBeUndefined();
    expect(await statusWith(third)).toBe(200);
    // The first cookie still names the session (its id derives from it) and ends it.
    expect((await request(ctx.app).post('/logout').set('Cookie', first)).status).toBe(204);
    expect(await statusWith(third)).toBe(401);
  });
});
