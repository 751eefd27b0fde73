/**
 * Passport (0.7, passport-local) on this package's own middleware through `sessions.passport()`, without
 * express-session: `req.login()` signs in through login() (a new cookie every time), `passport.session()`
 * deserializes `req.user`, `req.logout()` ends the session in Redis, and the package's rules hold:
 * a second sign-in displaces the first, reject-new answers 409, parallel sign-ins leave exactly the limit.
 */
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import { createSessionManager, type SessionManager, type SessionManagerOptions } from '../../lib';
import { TEST_SECRET } from '../helpers/app';
import { sessionCookieOf } from '../helpers/suite';
import { closeClient, TARGETS, uniquePrefix, type AppRedis } from '../helpers/targets';

const PASSWORD = 'pw';

function buildPassportApp(redis: AppRedis, options: Partial<SessionManagerOptions>): { app: Express; sessions: SessionManager } {
  const sessions = createSessionManager({ redis, keyPrefix: uniquePrefix(), cookie: { secure: false }, ...options });
  const passport = new Passport();
  passport.use(new LocalStrategy((username, password, done) => done(null, password === PASSWORD ? { id: username } : false)));
  passport.serializeUser((user, done) => done(null, (user as { id: string }).id));
  passport.deserializeUser((id: string, done) => done(null, { id, name: `user ${id}` }));
  const app = express();
  app.use(express.json(), cookieParser(TEST_SECRET), sessions.middleware(), sessions.passport(), passport.session());
  app.post('/login', passport.authenticate('local'), (req, res) => res.json({ user: (req.user as { id: string }).id }));
  app.get('/me', sessions.requireSession(), (req, res) => {
    res.json({ user: req.user as unknown, userId: sessions.sessionOf(req).userId, authenticated: req.isAuthenticated() });
  });
  app.get('/who', (req, res) => res.json({ authenticated: req.isAuthenticated() }));
  app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.status(204).end())));
  app.use(sessions.errorHandler());
  return { app, sessions };
}

async function logIn(app: Express, username: string, cookie?: string): Promise<string> {
  const req = request(app).post('/login').send({ username, password: PASSWORD });
  const res = await (cookie ? req.set('Cookie', cookie) : req);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return sessionCookieOf(res.headers['set-cookie']);
}

const codeOf = async (app: Express, cookie: string): Promise<string | null> => {
  const res = await request(app).get('/me').set('Cookie', cookie);
  return res.status === 200 ? null : res.body.error.code;
};

describe.each([TARGETS[0]!, TARGETS[1]!])('sessions.passport() with passport-local ($name)', (target) => {
  let client: AppRedis;
  beforeAll(() => {
    client = target.connect();
  });
  afterAll(() => closeClient(client));

  test('req.login() signs in through login(): passport.session() deserializes req.user, requireSession() lets it through', async () => {
    const { app, sessions } = buildPassportApp(client, {});
    expect((await request(app).get('/who')).body).toEqual({ authenticated: false });
    expect((await request(app).get('/me')).body.error.code).toBe('SESSION_MISSING');
    expect((await request(app).post('/login').send({ username: 'ann', password: 'wrong' })).status).toBe(401);
    const cookie = await logIn(app, 'ann');
    const me = await request(app).get('/me').set('Cookie', cookie).expect(200);
    expect(me.body).toEqual({ user: { id: 'ann', name: 'user ann' }, userId: 'ann', authenticated: true });
    expect(await sessions.listSessions('ann')).toHaveLength(1);
  });

  test('signing in again in the same browser gives a new cookie and ends the old session (no fixation)', async () => {
    const { app, sessions } = buildPassportApp(client, { maxSessions: 2 });
    const first = await logIn(app, 'bo');
    const second = await logIn(app, 'bo', first);
    expect(second).not.toBe(first);
    expect(await codeOf(app, first)).toBe('SESSION_EXPIRED');
    expect(await codeOf(app, second)).toBeNull();
    expect(await sessions.listSessions('bo')).toHaveLength(1);
  });

  test('a second sign-in displaces the first (SESSION_DISPLACED); reject-new answers 409 SESSION_LIMIT_REACHED', async () => {
    const displacing = buildPassportApp(client, { maxSessions: 1 });
    const first = await logIn(displacing.app, 'cy');
    const second = await logIn(displacing.app, 'cy');
    expect(await codeOf(displacing.app, first)).toBe('SESSION_DISPLACED');
    expect(await codeOf(displacing.app, second)).toBeNull();

    const rejecting = buildPassportApp(client, { maxSessions: 1, onLimit: 'reject-new' });
    const kept = await logIn(rejecting.app, 'cy');
    const refused = await request(rejecting.app).post('/login').send({ username: 'cy', password: PASSWORD });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SESSION_LIMIT_REACHED');
    expect(await codeOf(rejecting.app, kept)).toBeNull();
  });

  test('parallel sign-ins leave exactly the limit', async () => {
    const { app, sessions } = buildPassportApp(client, { maxSessions: 2 });
    const responses = await Promise.all(Array.from({ length: 12 }, () => request(app).post('/login').send({ username: 'di', password: PASSWORD })));
    expect(responses.map((res) => res.status)).toEqual(Array(12).fill(200));
    const codes = await Promise.all(responses.map((res) => codeOf(app, sessionCookieOf(res.headers['set-cookie']))));
    expect(codes.filter((code) => code === null)).toHaveLength(2);
    expect(await sessions.listSessions('di')).toHaveLength(2);
  });

  test('req.logout() ends the session in Redis and clears the cookie; revokeSession ends another', async () => {
    const { app, sessions } = buildPassportApp(client, { maxSessions: 2 });
    const cookie = await logIn(app, 'ed');
    const other = await logIn(app, 'ed');
    const res = await request(app).post('/logout').set('Cookie', cookie).expect(204);
    expect(String(res.headers['set-cookie'])).toMatch(/ess_sid=;/);
    expect(await codeOf(app, cookie)).toBe('SESSION_EXPIRED');
    const [left, ...none] = await sessions.listSessions('ed');
    expect(none).toEqual([]);
    expect(await sessions.revokeSession('ed', left!.sessionId)).toBe(true);
    expect(await codeOf(app, other)).toBe('SESSION_REVOKED');
  });
});
