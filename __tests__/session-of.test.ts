/**
 * sessions.sessionOf(req) gives protected handlers a typed, non-null session, and refuses with
 * MISCONFIGURED when a handler that uses it is reachable without a session.
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import request from 'supertest';
import { createSessionManager, type Session } from '../lib';
import { TEST_SECRET } from './helpers/app';
import { sessionCookieOf } from './helpers/suite';
import { TARGETS, uniquePrefix } from './helpers/targets';

const redis = TARGETS[0].connect();
afterAll(() => redis.quit());

const sessions = createSessionManager({ redis, keyPrefix: uniquePrefix() });
const app = express();
app.use(cookieParser(TEST_SECRET));
app.use(sessions.middleware());
app.post('/login', async (req, res) => {
  res.json(await sessions.login(req, res, 'alice'));
});
app.get('/protected', sessions.requireSession(), (req, res) => {
  const session: Session = sessions.sessionOf(req);
  res.json({ userId: session.userId, sameObject: session === req.session });
});
app.get('/unguarded', (req, res) => {
  res.json({ userId: sessions.sessionOf(req).userId });
});
app.get('/foreign', (req, res) => {
  // What another session library (express-session) would have put on req.session.
  (req as unknown as { session: object }).session = { cookie: {} };
  res.json({ userId: sessions.sessionOf(req).userId });
});
app.use(sessions.errorHandler());

test('returns the live session behind requireSession()', async () => {
  const cookie = sessionCookieOf((await request(app).post('/login')).headers['set-cookie']);
  const res = await request(app).get('/protected').set('Cookie', cookie);
  expect(res.body).toEqual({ userId: 'alice', sameObject: true });
});

test('throws MISCONFIGURED when the handler is reachable without a session', async () => {
  const res = await request(app).get('/unguarded');
  expect(res.status).toBe(500);
  expect(res.body.error.code).toBe('MISCONFIGURED');
});

test('does not mistake another library\'s req.session for one of ours', async () => {
  const cookie = sessionCookieOf((await request(app).post('/login')).headers['set-cookie']);
  const res = await request(app).get('/foreign').set('Cookie', cookie);
  expect(res.status).toBe(500);
  expect(res.body.error.code).toBe('MISCONFIGURED');
});

test('the thrown error says how to fix the wiring', () => {
  expect(() => sessions.sessionOf({ session: null } as never)).toThrow(/put sessions\.requireSession\(\) before the handler/);
});
