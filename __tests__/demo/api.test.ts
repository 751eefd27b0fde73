/**
 * The demo's JSON contract (POST /api/login, GET /api/session, POST /api/logout), in-process
 * through supertest against the shared test Redis, plus a private Redis that is stopped to
 * show the 503 answer.
 */
import request from 'supertest';
import IORedis from 'ioredis';
import { createDemoApp } from '../../demo-app/app';
import { useDemoApp } from './use-demo-app';
import { TEST_SECRET } from '../helpers/app';
import { startRedis, type RedisServer } from '../helpers/redis-servers';
import { uniquePrefix } from '../helpers/targets';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ctx = useDemoApp();

function sessionCookie(res: request.Response): string {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = cookies.find((c) => c.startsWith('ess_sid='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(cookies)}`);
  return cookie.split(';')[0];
}

async function login(username: string, password = 'demo') {
  return request(ctx.app).post('/api/login').send({ username, password });
}

describe('POST /api/login', () => {
  test('right password: 200 with exactly the public session facts, and a signed HttpOnly SameSite=Lax cookie', async () => {
    const res = await login('carol');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'expiresAt', 'lastActiveAt', 'sessionId', 'userId']);
    expect(res.body.userId).toBe('carol');
    expect(res.body.sessionId).toMatch(UUID);
    for (const time of ['createdAt', 'lastActiveAt', 'expiresAt']) expect(res.body[time]).toMatch(ISO);
    const cookie = ([] as string[]).concat(res.headers['set-cookie']).find((c) => c.startsWith('ess_sid='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    // The cookie holds s:<user tag>.<secret token>.<signature>: search the body for the token itself, not the tag.
    const signed = decodeURIComponent(sessionCookie(res).slice('ess_sid='.length));
    const raw = signed.slice(2, signed.lastIndexOf('.'));
    const token = raw.slice(raw.indexOf('.') + 1);
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(raw.startsWith(`${token}`)).toBe(false);
    const body = JSON.stringify(res.body);
    expect(body).not.toContain(token);
    expect(body).not.toContain(token.slice(0, 16));
    expect(body).not.toContain(token.slice(-16));
  });

  test('wrong password: 401 INVALID_CREDENTIALS and no cookie', async () => {
    const res = await login('carol', 'not-demo');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test.each([
    ['malformed JSON', 400, 'INVALID_JSON', '{"username": "x",'],
    ['a JSON array', 400, 'INVALID_REQUEST', '["x", "demo"]'],
    ['a bare JSON string', 400, 'INVALID_JSON', '"demo"'],
    ['no password', 400, 'INVALID_REQUEST', '{"username": "x"}'],
    ['a numeric username', 400, 'INVALID_REQUEST', '{"username": 7, "password": "demo"}'],
    ['a blank username', 400, 'INVALID_REQUEST', '{"username": "   ", "password": "demo"}'],
    ['a 65-character username', 400, 'INVALID_REQUEST', JSON.stringify({ username: 'x'.repeat(65), password: 'demo' })],
    ['a username with a newline', 400, 'INVALID_REQUEST', '{"username": "a\\nb", "password": "demo"}'],
    ['a body over 4 kB', 413, 'PAYLOAD_TOO_LARGE', JSON.stringify({ username: 'x', password: 'demo', pad: 'p'.repeat(5000) })],
  ])('%s: %i %s, never a 500', async (_name, status, code, body) => {
    const res = await request(ctx.app).post('/api/login').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
  });

  test('a body that is not JSON (form or text) is a 400 INVALID_REQUEST', async () => {
    const res = await request(ctx.app).post('/api/login').set('Content-Type', 'text/plain').send('username=x&password=demo');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
  });

  test('usernames are one account whatever their case', async () => {
    const first = await login('Dave');
    const second = await login('dave');
    expect(second.body.userId).toBe('dave');
    const stale = await request(ctx.app).get('/api/session').set('Cookie', sessionCookie(first));
    expect(stale.body.error.code).toBe('SESSION_DISPLACED');
  });

  test('a browser POST from another site is refused with 403 CROSS_SITE_REQUEST; from this site it works', async () => {
    const foreign = await request(ctx.app).post('/api/login').set('Origin', 'https://evil.example').send({ username: 'erin', password: 'demo' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('CROSS_SITE_REQUEST');
    expect(foreign.headers['set-cookie']).toBeUndefined();
    const own = await request(ctx.app).post('/api/login').set('Host', 'demo.test').set('Origin', 'http://demo.test').send({ username: 'erin', password: 'demo' });
    expect(own.status).toBe(200);
  });
});

describe('GET /api/session', () => {
  test('without a cookie: 401 SESSION_MISSING', async () => {
    const res = await request(ctx.app).get('/api/session');
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: 'SESSION_MISSING', message: expect.any(String) });
  });

  test('with the login cookie: 200 and the same session, its last activity refreshed', async () => {
    const signedIn = await login('frank');
    const res = await request(ctx.app).get('/api/session').set('Cookie', sessionCookie(signedIn));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...signedIn.body, lastActiveAt: expect.stringMatching(ISO), expiresAt: expect.stringMatching(ISO) });
    expect(Date.parse(res.body.lastActiveAt)).toBeGreaterThanOrEqual(Date.parse(signedIn.body.lastActiveAt));
  });

  test('with a tampered cookie: 401 SESSION_INVALID', async () => {
    const cookie = sessionCookie(await login('grace'));
    const res = await request(ctx.app).get('/api/session').set('Cookie', `${cookie.slice(0, -3)}xyz`);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_INVALID');
  });

  test('after a second login of the same user, the first cookie gets 401 SESSION_DISPLACED and the second works', async () => {
    const first = sessionCookie(await login('heidi'));
    const second = sessionCookie(await login('heidi'));
    const old = await request(ctx.app).get('/api/session').set('Cookie', first);
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('SESSION_DISPLACED');
    expect((await request(ctx.app).get('/api/session').set('Cookie', second)).status).toBe(200);
  });

  test('after the idle timeout: 401 SESSION_EXPIRED', async () => {
    const shortLived = ctx.variant({ idleTimeout: 1 });
    const signedIn = await request(shortLived).post('/api/login').send({ username: 'ivan', password: 'demo' });
    // Polling would refresh the session, so wait once until just past the expiry Redis was given.
    await new Promise((resolve) => setTimeout(resolve, Date.parse(signedIn.body.expiresAt) - Date.now() + 200));
    const res = await request(shortLived).get('/api/session').set('Cookie', sessionCookie(signedIn));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_EXPIRED');
  });
});

describe('GET /api/session/events', () => {
  test('without a live session: 401 JSON with the reason, no stream', async () => {
    const none = await request(ctx.app).get('/api/session/events').set('Accept', 'text/event-stream');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('SESSION_MISSING');
    const first = sessionCookie(await login('rita'));
    await login('Rita');
    const displaced = await request(ctx.app).get('/api/session/events').set('Accept', 'text/event-stream').set('Cookie', first);
    expect(displaced.status).toBe(401);
    expect(displaced.body.error.code).toBe('SESSION_DISPLACED');
  });

  test('a read with Accept: text/event-stream is not activity: the session keeps its last activity', async () => {
    const cookie = sessionCookie(await login('sam'));
    const before = (await request(ctx.app).get('/api/session').set('Cookie', cookie)).body.lastActiveAt;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const peek = await request(ctx.app).get('/api/session').set('Accept', 'text/event-stream, application/json').set('Cookie', cookie);
    expect(peek.status).toBe(200);
    expect(peek.body.lastActiveAt).toBe(before);
  });
});

describe('POST /api/logout', () => {
  test('204, the cookie is cleared, and the old cookie then gets 401', async () => {
    const cookie = sessionCookie(await login('judy'));
    const res = await request(ctx.app).post('/api/logout').set('Cookie', cookie);
    expect(res.status).toBe(204);
    expect(([] as string[]).concat(res.headers['set-cookie'])).toEqual([expect.stringMatching(/^ess_sid=;.*Expires=Thu, 01 Jan 1970/)]);
    const after = await request(ctx.app).get('/api/session').set('Cookie', cookie);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_EXPIRED');
  });

  test('without a session it is still 204', async () => {
    expect((await request(ctx.app).post('/api/logout')).status).toBe(204);
  });
});

describe('when Redis is down', () => {
  let server: RedisServer;
  let client: IORedis;
  let down: ReturnType<typeof createDemoApp>['app'];

  beforeAll(async () => {
    server = await startRedis();
    client = new IORedis(server.port, '127.0.0.1', { maxRetriesPerRequest: 0, disconnectTimeout: 10 });
    client.on('error', () => undefined);
    down = createDemoApp({ redis: client, secret: TEST_SECRET, keyPrefix: uniquePrefix() }).app;
  });
  afterAll(async () => {
    client.disconnect();
    await server.destroy();
  });

  test('GET /api/session and POST /api/login answer 503 SESSION_STORE_UNAVAILABLE', async () => {
    const cookie = sessionCookie(await request(down).post('/api/login').send({ username: 'ken', password: 'demo' }));
    await server.stop({ hard: true });
    const session = await request(down).get('/api/session').set('Cookie', cookie);
    expect(session.status).toBe(503);
    expect(session.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
    const signIn = await request(down).post('/api/login').send({ username: 'ken', password: 'demo' });
    expect(signIn.status).toBe(503);
    expect(signIn.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
  });
});

test('an unknown API route is a JSON 404 NOT_FOUND', async () => {
  const res = await request(ctx.app).get('/api/nope');
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('NOT_FOUND');
});
