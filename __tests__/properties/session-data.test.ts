/**
 * Properties of session data, on a real Redis: any JSON value stored under any allowed name, at sign-in
 * or by a later request, comes back equal (after a JSON round trip) on the requests that follow; a reserved
 * name (the session's facts and methods, `__proto__`, every `Object.prototype` member) is refused by
 * login() with INVALID_ARGUMENT, and so is a value JSON cannot hold (a function, a Symbol, a BigInt,
 * a cyclic object, at the top or nested where JSON.stringify throws) by login() and by save().
 */
import fc from 'fast-check';
import request from 'supertest';
import type { Session } from '../../lib';
import { RESERVED } from '../../lib/session-data';
import { useApp } from '../helpers/suite';
import { TARGETS } from '../helpers/targets';

/** What the next /login-with or /save-with request stores: set by the test (the app runs in this process). */
let pending: { name: string; value: unknown } = { name: '', value: null };

const ctx = useApp(TARGETS[0], { maxDataBytes: 1_000_000, maxDataFields: 1000 }, (app, sessions) => {
  app.post('/login-with', async (req, res, next) => {
    try {
      await sessions.login(req, res, req.body.userId, { [pending.name]: pending.value });
      res.json({ ok: true });
    } catch (err) {
      next(err);
    }
  });
  app.post('/save-with', sessions.requireSession(), async (req, res, next) => {
    try {
      (req.session as unknown as Record<string, unknown>)[pending.name] = pending.value;
      await (req.session as Session).save();
      res.json({ ok: true });
    } catch (err) {
      next(err);
    }
  });
});

/** Any field name the package leaves to the app. */
const allowedName = fc.string({ unit: 'binary', maxLength: 20 }).filter((name) => !RESERVED.has(name));
const json = fc.jsonValue({ maxDepth: 3 });
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

let users = 0;

test('any JSON value under any allowed name comes back equal: stored at sign-in, and by a later request', async () => {
  await fc.assert(
    fc.asyncProperty(allowedName, json, allowedName, json, async (name, value, laterName, laterValue) => {
      const userId = `data-${users++}`;
      const login = await request(ctx.app).post('/login').send({ userId, data: { [name]: value } });
      expect(login.status).toBe(200);
      const cookie = login.headers['set-cookie'];

      const first = await request(ctx.app).get('/me').set('Cookie', cookie);
      expect(first.status).toBe(200);
      expect(first.body[name]).toEqual(roundTrip(value));

      // A later request changes data the way apps do (Object.assign of a JSON body); the next one reads both.
      expect((await request(ctx.app).post('/data').set('Cookie', cookie).send({ [laterName]: laterValue })).status).toBe(200);
      const second = await request(ctx.app).get('/me').set('Cookie', cookie);
      const expected = { [name]: roundTrip(value), [laterName]: roundTrip(laterValue) };
      for (const key of Object.keys(expected)) expect(second.body[key]).toEqual(expected[key]);
    }),
    { numRuns: 60, seed: 1405 },
  );
});

test('a reserved name is refused by login() with INVALID_ARGUMENT, and no session is made', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...RESERVED), json, async (name, value) => {
      pending = { name, value };
      const res = await request(ctx.app).post('/login-with').send({ userId: `reserved-${users++}` });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_ARGUMENT');
      expect(res.headers['set-cookie']).toBeUndefined();
    }),
    { numRuns: 40, seed: 1406 },
  );
  // Every reserved name, not only the sampled ones, through the JSON body of a sign-in.
  for (const name of RESERVED) {
    const res = await request(ctx.app).post('/login').set('Content-Type', 'application/json').send(`{"userId":"r","data":{${JSON.stringify(name)}:1}}`);
    expect([name, res.status, res.body.error?.code]).toEqual([name, 400, 'INVALID_ARGUMENT']);
  }
});

/** Values JSON cannot hold: refused, never dropped or turned into something else. */
const cyclic = (): unknown => {
  const node: Record<string, unknown> = { a: 1 };
  node.self = node;
  return node;
};
const notJson = fc.oneof(
  fc.func(fc.integer()),
  fc.string().map((description) => Symbol(description)),
  fc.bigInt(),
  fc.constant(undefined).map(cyclic),
  fc.tuple(json, fc.bigInt()).map(([inner, big]) => ({ inner, big })),
  fc.tuple(json, fc.bigInt()).map(([inner, big]) => [inner, [big]]),
);

test('a value JSON cannot hold is refused with INVALID_ARGUMENT by login() and by save()', async () => {
  const cookie = (await request(ctx.app).post('/login').send({ userId: 'saver', data: { note: 'kept' } })).headers['set-cookie'];
  await fc.assert(
    fc.asyncProperty(allowedName, notJson, async (name, value) => {
      pending = { name, value };
      const login = await request(ctx.app).post('/login-with').send({ userId: `odd-${users++}` });
      expect(login.status).toBe(400);
      expect(login.body.error.code).toBe('INVALID_ARGUMENT');
      expect(login.headers['set-cookie']).toBeUndefined();

      const save = await request(ctx.app).post('/save-with').set('Cookie', cookie);
      expect(save.status).toBe(400);
      expect(save.body.error.code).toBe('INVALID_ARGUMENT');
    }),
    { numRuns: 60, seed: 1407 },
  );
  // The refused saves changed nothing.
  const me = await request(ctx.app).get('/me').set('Cookie', cookie);
  expect(me.status).toBe(200);
  expect(me.body.note).toBe('kept');
});
