/**
 * sessions.errorHandler() answers any SessionError the way requireSession() does (status, JSON
 * body with the user-facing message, no-store, Retry-After on 503) and passes other errors on.
 */
import { createServer } from 'node:net';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import Redis, { type Cluster } from 'ioredis';
import request from 'supertest';
import { createSessionManager, SessionError, USER_MESSAGES, type SessionErrorCode } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { CACHED_TARGETS, TARGETS, uniquePrefix, type Target } from './helpers/targets';

const redis = TARGETS[0].ioredis();
let deadRedis: Redis;

beforeAll(async () => {
  // A client whose server is gone: every command fails, so login() rejects with SESSION_STORE_UNAVAILABLE.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  deadRedis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  deadRedis.on('error', () => undefined);
});

afterAll(async () => {
  if (deadRedis.status !== 'end') deadRedis.disconnect();
  await redis.quit();
});

function buildApp(target: Target, client: Redis | Cluster = redis) {
  const sessions = createSessionManager({ redis: client, ...target.options, keyPrefix: uniquePrefix(), storeTimeoutMs: 300 });
  const app = express();
  app.use(cookieParser(TEST_SECRET));
  app.use(sessions.middleware());
  app.get('/guarded', sessions.requireSession(), (_req, res) => res.end());
  app.get('/throw/:code', (req) => {
    throw new SessionError(req.params.code as SessionErrorCode, 'a developer-facing detail');
  });
  // Passes the rejection on itself, so the test also holds on Express 4 (the oldest-peers run).
  app.post('/login/:user', (req, res, next) => {
    sessions.login(req, res, req.params.user === 'empty' ? '' : String(req.params.user)).then((session) => res.json(session), next);
  });
  app.get('/other', () => {
    throw new Error('not a session error');
  });
  app.get('/late', (_req, res, next) => {
    res.status(200).write('partial');
    next(new SessionError('SESSION_EXPIRED'));
  });
  app.use(sessions.errorHandler());
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return res.end(' then the app ended it');
    res.status(418).json({ passedOn: err.message });
  });
  return app;
}

const ALL_CODES = Object.keys(USER_MESSAGES) as SessionErrorCode[];

function expectSameAnswer(a: request.Response, b: request.Response): void {
  expect(b.status).toBe(a.status);
  expect(b.body).toEqual(a.body);
  for (const header of ['cache-control', 'retry-after', 'content-type']) expect(b.headers[header]).toEqual(a.headers[header]);
}

// ioredis on the single server, without and with the local cache.
describe.each([TARGETS[0], ...CACHED_TARGETS])('errorHandler() ($name)', (target) => {
  // One app per target: the tests keep no state in it, and each manager with localCache adds a listener to the client.
  let app: express.Express;
  beforeAll(() => {
    app = buildApp(target);
  });

  test('answers a SessionError exactly as requireSession() answers the same code', async () => {
    const guarded = await request(app).get('/guarded');
    expect(guarded.status).toBe(401);
    const handled = await request(app).get('/throw/SESSION_MISSING');
    expectSameAnswer(guarded, handled);
    expect(handled.body).toEqual({ error: { code: 'SESSION_MISSING', message: 'You are not signed in.' } });
    expect(handled.headers['cache-control']).toBe('no-store');
  });

  test.each(ALL_CODES)('%s: its status, its user-facing message without the library prefix or the detail', async (code) => {
    const res = await request(app).get(`/throw/${code}`);
    expect(res.status).toBe(new SessionError(code).status);
    expect(res.body).toEqual({ error: { code, message: USER_MESSAGES[code] } });
    expect(res.body.error.message).not.toMatch(/express-single-session|developer-facing/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['retry-after']).toBe(code === 'SESSION_STORE_UNAVAILABLE' ? '1' : undefined);
  });

  test('answers a login() rejected for a bad user id with 400 INVALID_ARGUMENT', async () => {
    const res = await request(app).post('/login/empty');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'INVALID_ARGUMENT', message: USER_MESSAGES.INVALID_ARGUMENT } });
  });

  test('answers a login() rejected because Redis is down with 503 and Retry-After', async () => {
    const res = await request(buildApp(target, deadRedis)).post('/login/alice');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
  });

  test('passes any other error on to the next error handler, unchanged', async () => {
    const res = await request(app).get('/other');
    expect(res.status).toBe(418);
    expect(res.body).toEqual({ passedOn: 'not a session error' });
  });

  test('passes a SessionError on when the response has already started', async () => {
    const res = await request(app).get('/late');
    expect(res.status).toBe(200);
    expect(res.text).toBe('partial then the app ended it');
  });
});

test('the user-facing messages are exported, one per code, and frozen', () => {
  expect(Object.isFrozen(USER_MESSAGES)).toBe(true);
  for (const code of ALL_CODES) expect(USER_MESSAGES[code]).toMatch(/^[A-Z].*\.$/);
});
