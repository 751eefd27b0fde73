/**
 * NODE_DEBUG=express-single-session logs what each request's session resolved to and how long the
 * store took, through node:util debuglog, and never a token or a cookie value. The app runs in its
 * own process, since debuglog reads NODE_DEBUG when Node starts.
 */
import request from 'supertest';
import { startAppProcess, type AppProcess } from './helpers/app-processes';
import { rawValueOf, sessionCookieOf } from './helpers/suite';
import { uniquePrefix } from './helpers/targets';

jest.setTimeout(60_000);

let app: AppProcess;
beforeAll(async () => {
  app = await startAppProcess({ port: Number(process.env.ESS_TEST_REDIS_PORT) }, { keyPrefix: uniquePrefix(), env: { NODE_DEBUG: 'express-single-session' } });
});
afterAll(() => app?.stop());

async function untilLogged(pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(app.stderr); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

test('logs sign-in, resolve outcomes, saves and logout with store timings, and no token', async () => {
  const first = sessionCookieOf((await request(app.base).post('/login').send({ userId: 'debug-user' })).headers['set-cookie']);
  const me = await request(app.base).get('/me').set('Cookie', first);
  await request(app.base).post('/data').set('Cookie', first).send({ note: 'x' });
  const second = sessionCookieOf((await request(app.base).post('/login').send({ userId: 'debug-user' })).headers['set-cookie']);
  expect((await request(app.base).get('/me').set('Cookie', first)).status).toBe(401);
  await request(app.base).get('/me');
  await request(app.base).get('/me').set('Cookie', 'ess_sid=forged');
  await request(app.base).post('/logout').set('Cookie', second);
  await untilLogged(/logout ok/);

  const lines = app.stderr.split('\n').filter((line) => line.startsWith('EXPRESS-SINGLE-SESSION'));
  const sessionId = me.body.sessionId as string;
  const timing = '\\(store \\d+\\.\\d{2} ms\\)';
  expect(lines).toEqual(expect.arrayContaining([
    expect.stringMatching(new RegExp(`: login ok session [0-9a-f-]{36} ${timing}$`)),
    expect.stringMatching(new RegExp(`: resolve ok session ${sessionId} ${timing}$`)),
    expect.stringMatching(new RegExp(`: save ok session ${sessionId} ${timing}$`)),
    expect.stringMatching(new RegExp(`: resolve SESSION_DISPLACED ${timing}$`)),
    expect.stringMatching(/: resolve SESSION_MISSING \(cookie\)$/),
    expect.stringMatching(/: resolve SESSION_INVALID \(cookie\)$/),
    expect.stringMatching(new RegExp(`: logout ok ${timing}$`)),
  ]));

  for (const cookie of [first, second]) {
    const raw = rawValueOf(cookie);
    const token = raw.slice(raw.indexOf('.') + 1);
    expect(token.length).toBeGreaterThanOrEqual(43);
    expect(app.stderr).not.toContain(token);
    expect(app.stderr).not.toContain(raw);
    expect(app.stderr).not.toContain(cookie.slice(cookie.indexOf('=') + 1));
  }
});

test('is silent without NODE_DEBUG', async () => {
  const quiet = await startAppProcess({ port: Number(process.env.ESS_TEST_REDIS_PORT) }, { keyPrefix: uniquePrefix(), env: { NODE_DEBUG: '' } });
  try {
    await request(quiet.base).post('/login').send({ userId: 'quiet-user' });
    await request(quiet.base).get('/me');
    expect(quiet.stderr).not.toMatch(/EXPRESS-SINGLE-SESSION/);
  } finally {
    await quiet.stop();
  }
});
