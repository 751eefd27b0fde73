/**
 * The app's own session data: saved before the response ends when changed, merged per field so
 * concurrent requests keep each other's changes, and never written into a displaced session.
 */
import type { Express } from 'express';
import request from 'supertest';
import { signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS } from './helpers/targets';

/** A route that resolves, then waits for the test to release it before it changes data. */
function heldRoute() {
  const waiting: (() => void)[] = [];
  let arrived: () => void = () => undefined;
  const routes = (app: Express) => {
    app.post('/held', (req, res) => {
      arrived();
      waiting.push(() => {
        Object.assign(req.session!, req.body);
        res.json({ ok: true });
      });
    });
  };
  return {
    routes,
    /** Resolves when a request reached the handler (its session was already resolved). */
    nextArrival: () => new Promise<void>((resolve) => (arrived = resolve)),
    releaseAll: () => waiting.splice(0).forEach((release) => release()),
  };
}

describe.each(BEHAVIOUR_TARGETS)('session data ($name)', (target) => {
  const held = heldRoute();
  let nextData: object = {};
  /** What onError heard: a change the package could not save must be reported, never dropped silently. */
  const reported: { code: string; message: string }[] = [];
  const ctx = useApp(target, { onError: (error) => reported.push({ code: error.code, message: error.message }) }, (app, sessions) => {
    held.routes(app);
    app.post('/drop-b', sessions.requireSession(), (req, res) => {
      req.session!.b = undefined;
      res.end();
    });
    app.post('/explicit-save', sessions.requireSession(), async (req, res) => {
      req.session!.note = 'x';
      await signIn(app, 'save-user');
      try {
        await req.session!.save();
        res.json({ outcome: 'saved' });
      } catch (err) {
        res.json({ outcome: (err as { code: string }).code });
      }
    });
    app.post('/login-invalid', async (req, res, next) => {
      try {
        await sessions.login(req, res, 'invalid-data', nextData);
        res.json({ outcome: 'logged-in' });
      } catch (err) {
        next(err);
      }
    });
    app.get('/overwrite', sessions.requireSession(), (req, res) => {
      try {
        (req.session as unknown as Record<string, unknown>).userId = 'root';
        res.json({ threw: false });
      } catch {
        res.json({ threw: true, userId: req.session!.userId });
      }
    });
  });

  test('login data and later changes are kept across requests', async () => {
    const cookie = await signIn(ctx.app, 'data-user', { theme: 'dark', cart: [] });
    await request(ctx.app).post('/data').set('Cookie', cookie).send({ cart: ['apple'], visits: 1 });
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body).toMatchObject({ theme: 'dark', cart: ['apple'], visits: 1 });
  });

  test('setting a field to undefined deletes it', async () => {
    const cookie = await signIn(ctx.app, 'delete-user', { a: 1, b: 2 });
    await request(ctx.app).post('/data').set('Cookie', cookie).send({ a: null });
    let me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body).toMatchObject({ a: null, b: 2 });
    await request(ctx.app).post('/drop-b').set('Cookie', cookie);
    me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body).not.toHaveProperty('b');
  });

  test('two concurrent requests that change different fields both keep their change', async () => {
    const cookie = await signIn(ctx.app, 'merge-user');
    const arrivals = Promise.all([held.nextArrival()]);
    const first = request(ctx.app).post('/held').set('Cookie', cookie).send({ left: 'L' }).then((r) => r);
    await arrivals;
    const second = held.nextArrival();
    const other = request(ctx.app).post('/held').set('Cookie', cookie).send({ right: 'R' }).then((r) => r);
    await second;
    held.releaseAll();
    await Promise.all([first, other]);
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body).toMatchObject({ left: 'L', right: 'R' });
  });

  test('a request in flight while its session is displaced cannot bring it back or write into the new one', async () => {
    const old = await signIn(ctx.app, 'race-user', { owner: 'old' });
    const arrival = held.nextArrival();
    const inFlight = request(ctx.app).post('/held').set('Cookie', old).send({ owner: 'stale-write', extra: 1 }).then((r) => r);
    await arrival;
    const fresh = await signIn(ctx.app, 'race-user', { owner: 'new' });
    reported.length = 0;
    held.releaseAll();
    expect((await inFlight).status).toBe(200);
    // The dropped save is reported to onError as SESSION_DISPLACED (the write-back runs after the response).
    for (let waited = 0; reported.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reported.map((r) => r.code)).toEqual(['SESSION_DISPLACED']);
    const stale = await request(ctx.app).get('/me').set('Cookie', old);
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('SESSION_DISPLACED');
    const current = await request(ctx.app).get('/me').set('Cookie', fresh);
    expect(current.body.owner).toBe('new');
    expect(current.body).not.toHaveProperty('extra');
  });

  test('req.session.save() rejects with SESSION_DISPLACED once a newer login took over', async () => {
    const cookie = await signIn(ctx.app, 'save-user');
    const res = await request(ctx.app).post('/explicit-save').set('Cookie', cookie);
    expect(res.body).toEqual({ outcome: 'SESSION_DISPLACED' });
  });

  const invalid: [string, () => object][] = [
    ['a reserved name', () => ({ userId: 'x' })],
    ['a BigInt', () => ({ n: 10n })],
    ['a circular value', () => {
      const loop: Record<string, unknown> = {};
      loop.self = loop;
      return { loop };
    }],
    ['a function', () => ({ fn: () => 1 })],
    ['an own __proto__ key', () => JSON.parse('{"__proto__": {"polluted": true}}')],
  ];

  test.each(invalid)('login data with %s is refused with INVALID_ARGUMENT', async (_name, make) => {
    nextData = make();
    const res = await request(ctx.app).post('/login-invalid');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_ARGUMENT');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('the facts on req.session are read-only', async () => {
    const cookie = await signIn(ctx.app, 'readonly-user');
    const res = await request(ctx.app).get('/overwrite').set('Cookie', cookie);
    expect(res.body).toEqual({ threw: true, userId: 'readonly-user' });
  });
});
