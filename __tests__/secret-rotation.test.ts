/**
 * The README's way to rotate the cookie secret works: cookie-parser given [new, old] signs new
 * cookies with the new secret and still accepts cookies signed with the old one, so nobody is
 * signed out; dropping the old secret then refuses the old cookies.
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import request from 'supertest';
import { createSessionManager } from '../lib';
import { rawValueOf, sessionCookieOf, signCookieValue } from './helpers/suite';
import { TARGETS, uniquePrefix } from './helpers/targets';

const OLD = 'old-secret-0123456789-0123456789-abcdef';
const NEW = 'new-secret-0123456789-0123456789-abcdef';
const redis = TARGETS[0].connect();
const keyPrefix = uniquePrefix();
afterAll(() => redis.quit());

function appSignedWith(secret: string | string[]) {
  const sessions = createSessionManager({ redis, keyPrefix });
  const app = express();
  app.use(cookieParser(secret));
  app.use(sessions.middleware());
  app.post('/login/:user', async (req, res) => {
    res.json(await sessions.login(req, res, req.params.user as string));
  });
  app.get('/me', sessions.requireSession(), (req, res) => res.json({ userId: sessions.sessionOf(req).userId }));
  return app;
}

test('[new, old] keeps old cookies valid and signs new ones with the new secret; [new] alone refuses old ones', async () => {
  const before = appSignedWith(OLD);
  const oldCookie = sessionCookieOf((await request(before).post('/login/alice')).headers['set-cookie']);

  const rotating = appSignedWith([NEW, OLD]);
  expect((await request(rotating).get('/me').set('Cookie', oldCookie)).body).toEqual({ userId: 'alice' });

  const newCookie = sessionCookieOf((await request(rotating).post('/login/bob')).headers['set-cookie']);
  expect(newCookie).toBe(`ess_sid=${signCookieValue(rawValueOf(newCookie), NEW)}`);
  expect((await request(rotating).get('/me').set('Cookie', newCookie)).body).toEqual({ userId: 'bob' });

  const rotated = appSignedWith(NEW);
  expect((await request(rotated).get('/me').set('Cookie', newCookie)).status).toBe(200);
  const refused = await request(rotated).get('/me').set('Cookie', oldCookie);
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe('SESSION_INVALID');
});
