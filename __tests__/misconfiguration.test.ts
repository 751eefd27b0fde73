/**
 * Wiring mistakes are reported to the app (next(err) or a rejected promise) with a code that
 * says what to fix, instead of silently treating everyone as signed out.
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import request from 'supertest';
import { createSessionManager, SessionError } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { TARGETS, uniquePrefix } from './helpers/targets';

const redis = TARGETS[0].ioredis();
afterAll(() => redis.quit());

function appWith(setup: (app: express.Express) => void) {
  const sessions = createSessionManager({ redis, keyPrefix: uniquePrefix() });
  const app = express();
  setup(app);
  app.use(sessions.middleware());
  app.get('/me', sessions.requireSession(), (_req, res) => res.end());
  app.post('/login', async (req, res, next) => {
    try {
      await sessions.login(req, res, String(req.query.user ?? 'u'));
      res.end();
    } catch (err) {
      next(err);
    }
  });
  app.post('/late-login', async (req, res) => {
    res.status(200).write('started');
    try {
      await sessions.login(req, res, 'late');
    } catch (err) {
      res.end(` ${(err as SessionError).code}`);
    }
  });
  app.use((err: SessionError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ code: err.code });
  });
  return { app, sessions };
}

test('without cookie-parser the middleware reports MISCONFIGURED', async () => {
  const { app } = appWith(() => undefined);
  const res = await request(app).get('/me');
  expect(res.status).toBe(500);
  expect(res.body.code).toBe('MISCONFIGURED');
});

test('cookie-parser without a secret is MISCONFIGURED too', async () => {
  const { app } = appWith((a) => a.use(cookieParser()));
  expect((await request(app).get('/me')).body.code).toBe('MISCONFIGURED');
});

test('requireSession without the middleware reports MISCONFIGURED', async () => {
  const sessions = createSessionManager({ redis });
  const app = express();
  app.get('/me', sessions.requireSession(), (_req, res) => res.end());
  app.use((err: SessionError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ code: err.code });
  });
  expect((await request(app).get('/me')).body.code).toBe('MISCONFIGURED');
});

test('login after the headers were sent is refused with HEADERS_SENT', async () => {
  const { app } = appWith((a) => a.use(cookieParser(TEST_SECRET)));
  const res = await request(app).post('/late-login');
  expect(res.text).toBe('started HEADERS_SENT');
});

test.each([[''], ['x'.repeat(1025)]])('login with an unusable user id %# is INVALID_ARGUMENT', async (user) => {
  const { app } = appWith((a) => a.use(cookieParser(TEST_SECRET)));
  const res = await request(app).post(`/login?user=${user}`);
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('INVALID_ARGUMENT');
});
