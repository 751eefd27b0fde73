/**
 * Property: whatever options object an app passes (the real option names with random values of any
 * type, unknown names, non-objects), createSessionManager() either throws SessionError INVALID_OPTIONS
 * or returns a manager that then answers requests: a signed-out request, a sign-in and a signed-in
 * request, never with a 500 or an error other than a SessionError.
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import fc from 'fast-check';
import Redis from 'ioredis';
import request from 'supertest';
import { createSessionManager, SessionError, type SessionManager } from '../../lib';
import { TEST_SECRET } from '../helpers/app';
import { uniquePrefix } from '../helpers/targets';

const port = Number(process.env.ESS_TEST_REDIS_PORT);

/** Any value at all, the odd ones included (BigInt, boxed values, null prototypes, Map, Set, typed arrays, sparse arrays). */
const anything = fc.anything({
  maxDepth: 2,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

/** A value that is mostly plausible for an option (right type, edge values) and sometimes anything. */
const value = (...plausible: fc.Arbitrary<unknown>[]) =>
  fc.oneof({ weight: 1, arbitrary: anything }, ...plausible.map((arbitrary) => ({ weight: Math.ceil(6 / plausible.length), arbitrary })));
const seconds = fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.integer({ min: 1, max: 3600 }), fc.double(), fc.constant(0.001));

const cookie = value(
  fc.record(
    {
      name: value(fc.constantFrom('ess_sid', '__Host-x', '__Secure-x', 'bad name', '')),
      secure: value(fc.constantFrom(true, false, 'auto')),
      sameSite: value(fc.constantFrom('lax', 'strict', 'none', 'Lax')),
      path: value(fc.constantFrom('/', '/app', 'app')),
      domain: value(fc.constantFrom('example.com', '')),
      persistent: value(fc.boolean()),
    },
    { requiredKeys: [] },
  ),
);

/** The real option names (redis always the test's client: other redis values are a separate case below) with random values. */
const realOptions = fc.record(
  {
    idleTimeout: value(seconds),
    absoluteTimeout: value(seconds, fc.constant(false)),
    touchAfter: value(seconds),
    localCache: value(fc.boolean(), fc.record({ maxEntries: value(fc.integer({ min: -1, max: 20 })) }, { requiredKeys: [] })),
    indexTtlFactor: value(fc.double({ min: 0, max: 5 })),
    keyPrefix: value(fc.string({ maxLength: 70 })),
    storeTimeoutMs: value(fc.integer({ min: -1, max: 70_000 })),
    cookie,
    maxSessions: value(fc.integer({ min: -1, max: 1001 }), fc.func(anything), fc.func(fc.integer({ min: 1, max: 3 }))),
    onLimit: value(fc.constantFrom('displace-oldest', 'reject-new', 'displace')),
    recordClient: value(fc.boolean()),
    waitForReplicas: value(
      fc.record({ replicas: value(fc.integer({ min: -1, max: 101 })), timeoutMs: value(fc.integer({ min: -1, max: 70_000 })) }, { requiredKeys: [] }),
    ),
    metrics: value(fc.record({ registry: value(fc.constant({ registerMetric: 1 })) }, { requiredKeys: [] })),
    userTagSecret: value(fc.string({ minLength: 30, maxLength: 40 })),
    maxDataBytes: value(fc.integer({ min: -1, max: 100_000 })),
    maxDataFields: value(fc.integer({ min: -1, max: 300 })),
    requestProperty: value(fc.constantFrom('account', 'session', 'body', '__proto__', '1x', 'my-session')),
    onError: value(fc.func(fc.constant(undefined))),
  },
  { requiredKeys: [], noNullPrototype: false },
);

/** Options a careful app passes: every value of the right type and in range. */
const validOptions = fc.record(
  {
    idleTimeout: fc.integer({ min: 60, max: 3600 }),
    absoluteTimeout: fc.constantFrom(false, 7200, 28_800),
    localCache: fc.oneof(fc.boolean(), fc.record({ maxEntries: fc.integer({ min: 1, max: 20 }) }, { requiredKeys: [] })),
    indexTtlFactor: fc.double({ min: 1, max: 5, noNaN: true }),
    storeTimeoutMs: fc.integer({ min: 200, max: 5000 }),
    cookie: fc.record({ sameSite: fc.constantFrom('lax', 'strict'), path: fc.constantFrom('/', '/app'), persistent: fc.boolean() }, { requiredKeys: [] }),
    maxSessions: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.func(fc.integer({ min: 1, max: 3 })), fc.func(anything)),
    onLimit: fc.constantFrom('displace-oldest', 'reject-new'),
    recordClient: fc.boolean(),
    userTagSecret: fc.string({ minLength: 32, maxLength: 40 }),
    maxDataBytes: fc.integer({ min: 1, max: 100_000 }),
    maxDataFields: fc.integer({ min: 1, max: 300 }),
    requestProperty: fc.constantFrom('account', 'session'),
    onError: fc.func(fc.constant(undefined)),
  },
  { requiredKeys: [] },
);
const NAMES = ['idleTimeout', 'absoluteTimeout', 'touchAfter', 'localCache', 'indexTtlFactor', 'keyPrefix', 'storeTimeoutMs', 'cookie', 'maxSessions',
  'onLimit', 'recordClient', 'waitForReplicas', 'metrics', 'userTagSecret', 'maxDataBytes', 'maxDataFields', 'requestProperty', 'onError'];

/** Options as an app might get them wrong: the real names, plus sometimes a stray name, or no object at all. */
const options = fc.oneof(
  { weight: 4, arbitrary: realOptions },
  { weight: 3, arbitrary: validOptions },
  { weight: 3, arbitrary: fc.tuple(validOptions, fc.constantFrom(...NAMES), anything).map(([valid, name, wrong]) => ({ ...valid, [name]: wrong })) },
  {
    weight: 1,
    arbitrary: fc.tuple(realOptions, fc.dictionary(fc.string({ maxLength: 12 }), anything, { maxKeys: 2 })).map(([real, extra]) => ({ ...extra, ...real })),
  },
  { weight: 1, arbitrary: fc.record({ redis: anything }) },
  { weight: 1, arbitrary: anything },
);

/** Builds the app around the manager and proves it answers: signed out, sign-in, signed in. */
async function answers(sessions: SessionManager, client: Redis): Promise<void> {
  const app = express();
  app.use(cookieParser(TEST_SECRET));
  app.use(express.json());
  app.use(sessions.middleware());
  app.get('/public', (_req, res) => res.json({ ok: true }));
  app.post('/login', async (req, res, next) => {
    try {
      await sessions.login(req, res, 'user-1');
      res.json({ ok: true });
    } catch (err) {
      next(err);
    }
  });
  app.get('/me', sessions.requireSession(), (_req, res) => res.json({ ok: true }));
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    // A SessionError is an answer the app can give (a limit, a function option returning nonsense); anything else is the bug.
    res.status(err instanceof SessionError ? 299 : 599).json({ error: err instanceof SessionError ? err.code : String(err) });
  });
  await client.ping();
  expect((await request(app).get('/public')).status).toBe(200);
  const login = await request(app).post('/login').send({});
  expect(login.status === 200 || login.status === 299).toBe(true);
  const me = await request(app).get('/me').set('Cookie', ([] as string[]).concat(login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]));
  // Behind a requestProperty or a Secure cookie the request may be signed out; it is still answered, never with a crash.
  expect([200, 401]).toContain(me.status);
}

let warn: jest.SpyInstance;
beforeAll(() => {
  // cookie.secure: false warns through process.emitWarning each time; keep the test output readable.
  warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterAll(() => warn.mockRestore());

test('any options: a working manager or INVALID_OPTIONS, never another error, never a crash later', async () => {
  let built = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(options, async (given) => {
      const client = new Redis({ host: '127.0.0.1', port });
      try {
        const withClient = given !== null && typeof given === 'object' && !Array.isArray(given) && !('redis' in given)
          ? { redis: client, keyPrefix: uniquePrefix(), ...given }
          : given;
        let sessions: SessionManager;
        try {
          sessions = createSessionManager(withClient as never);
        } catch (err) {
          expect(err).toBeInstanceOf(SessionError);
          expect((err as SessionError).code).toBe('INVALID_OPTIONS');
          refused++;
          return;
        }
        built++;
        await answers(sessions, client);
      } finally {
        await client.quit();
      }
    }),
    { numRuns: 250, seed: 1401 },
  );
  // Both outcomes were exercised, so neither half of the property is vacuous.
  expect(built).toBeGreaterThan(10);
  expect(refused).toBeGreaterThan(10);
});
