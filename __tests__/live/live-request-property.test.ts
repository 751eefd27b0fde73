/**
 * `liveEvents()` under `requestProperty`: the stream finds the package's session where the manager puts it,
 * beside another library's `req.session`.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import cookieParser from 'cookie-parser';
import express from 'express';
import { createSessionManager } from '../../lib';
import { TEST_SECRET } from '../helpers/app';
import { openStream } from '../helpers/sse';
import { sessionCookieOf } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const redis = TARGETS[0].connect();
const sessions = createSessionManager({ redis, keyPrefix: uniquePrefix(), requestProperty: 'account' });
let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(cookieParser(TEST_SECRET));
  // Another library's session object on req.session, as express-session would put there.
  app.use((req, _res, next) => {
    (req as unknown as { session: object }).session = { legacy: true };
    next();
  });
  app.use(sessions.middleware());
  app.post('/login', (req, res, next) => {
    sessions.login(req, res, 'streamer').then(() => res.end(), next);
  });
  app.post('/logout', (req, res, next) => {
    sessions.logout(req, res).then(() => res.status(204).end(), next);
  });
  app.get('/events', sessions.liveEvents());
  app.use(sessions.errorHandler());
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await redis.quit();
});

test('a signed-in stream is served from requestProperty, and told when the session ends', async () => {
  const login = await fetch(`${base}/login`, { method: 'POST' });
  const cookie = sessionCookieOf(login.headers.getSetCookie());
  const stream = await openStream(base, cookie);
  try {
    expect(stream.status).toBe(200);
    expect((await stream.next('session')).data).toMatchObject({ sessionId: expect.any(String) });
    await fetch(`${base}/logout`, { method: 'POST', headers: { Cookie: cookie } });
    expect((await stream.next('ended')).data).toEqual({ code: 'SESSION_LOGGED_OUT' });
  } finally {
    stream.close();
  }
});

test('without a session the stream is refused as requireSession would (401), not 500', async () => {
  const stream = await openStream(base, '');
  try {
    expect(stream.status).toBe(401);
    expect(await stream.body()).toMatchObject({ error: { code: 'SESSION_MISSING' } });
  } finally {
    stream.close();
  }
});
