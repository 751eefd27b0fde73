/**
 * `requestProperty` lets the package run beside another library that owns `req.session`
 * (express-session during a migration) on the very same routes: each keeps its own object.
 */
import { createRequire } from 'node:module';
import cookieParser from 'cookie-parser';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { createSessionManager, type SessionManagerOptions } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { CACHED_TARGETS, TARGETS, uniquePrefix, type Target } from './helpers/targets';

// Loaded without its types: @types/express-session declares req.session its own way (see the package tests).
const expressSession = createRequire(__filename)('express-session') as (options: object) => RequestHandler;
type Legacy = { legacy?: string } | undefined;

const redis = TARGETS[0].connect();
afterAll(() => redis.quit());

/** The app for `target`: express-session and this package on the same routes. */
function appFor(target: Target): express.Express {
  const sessions = createSessionManager({ redis, ...target.options, keyPrefix: uniquePrefix(), requestProperty: 'account' });
  const app = express();
  app.use(cookieParser(TEST_SECRET));
  app.use(express.json());
  app.use(expressSession({ secret: TEST_SECRET, resave: false, saveUninitialized: false }));
  app.use(sessions.middleware());
  app.post('/login', async (req, res, next) => {
    try {
      (req.session as unknown as Legacy)!.legacy = 'kept by express-session';
      const session = await sessions.login(req, res, 'alice', { note: 'first' });
      res.json({ userId: session.userId });
    } catch (err) {
      next(err);
    }
  });
  app.get('/both', sessions.requireSession(), (req, res) => {
    const ours = sessions.sessionOf(req);
    const onAccount = (req as unknown as { account: unknown }).account === ours;
    res.json({ legacy: (req.session as unknown as Legacy)?.legacy, userId: ours.userId, note: ours.note, onAccount });
  });
  app.post('/note', sessions.requireSession(), (req, res) => {
    sessions.sessionOf(req).note = String(req.body.note);
    res.json({ ok: true });
  });
  app.post('/logout', (req, res, next) => {
    const answer = () => res.json({ account: (req as unknown as { account: unknown }).account, legacy: (req.session as unknown as Legacy)?.legacy });
    sessions.logout(req, res).then(answer, next);
  });
  app.use(sessions.errorHandler());
  return app;
}

function cookiesOf(res: request.Response): string {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((cookie) => cookie.split(';')[0]).join('; ');
}

// ioredis on the single server, without and with the local cache.
describe.each([TARGETS[0], ...CACHED_TARGETS])('beside express-session ($name)', (target) => {
  test('both libraries keep their own session on the same routes', async () => {
    const app = appFor(target);
    const login = await request(app).post('/login');
    expect(login.body).toEqual({ userId: 'alice' });
    const cookies = cookiesOf(login);
    expect(cookies).toMatch(/connect\.sid=/);
    expect(cookies).toMatch(/ess_sid=/);

    expect((await request(app).post('/note').set('Cookie', cookies).send({ note: 'second' })).status).toBe(200);
    const both = await request(app).get('/both').set('Cookie', cookies);
    expect(both.body).toEqual({ legacy: 'kept by express-session', userId: 'alice', note: 'second', onAccount: true });

    const logout = await request(app).post('/logout').set('Cookie', cookies);
    expect(logout.body).toEqual({ account: null, legacy: 'kept by express-session' });
    const after = await request(app).get('/both').set('Cookie', cookies);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_EXPIRED');
  });
});

test.each([['a property Express already sets', 'body'], ['not an identifier', 'my-session'], ['the error code property', 'sessionErrorCode']])(
  'requestProperty refuses %s',
  (_why, requestProperty) => {
    expect(() => createSessionManager({ redis, requestProperty } as SessionManagerOptions)).toThrow(/`requestProperty` must be a free identifier/);
  },
);
