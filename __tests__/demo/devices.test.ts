/**
 * The demo's session management, in-process through supertest: the Devices panel, signing other
 * devices out (one or all), the revoked banner, the reject-new sign-in message, the "Confirm your
 * password" step in front of "Change password", and GET /metrics.
 */
import request from 'supertest';
import { describeClient } from '../../demo-app/devices';
import { sleep } from '../helpers/suite';
import { useDemoApp } from './use-demo-app';

const ctx = useDemoApp();
const FIREFOX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

type App = NonNullable<Parameters<typeof request.agent>[0]>;

/** A browser-like client that keeps cookies, signed in as `username` through the form. */
async function browser(app: App, username: string, userAgent = FIREFOX) {
  const agent = request.agent(app).set('User-Agent', userAgent);
  const res = await agent.post('/login').type('form').send({ username, password: 'demo' });
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/');
  return agent;
}

/** The session ids of the devices the dashboard lists, and which one is marked as this device. */
function devicesOn(page: string): { ids: string[]; current: string[] } {
  const ids = [...page.matchAll(/data-device data-session-id="([^"]+)"/g)].map((m) => m[1]);
  const current = [...page.matchAll(/data-session-id="([^"]+)" data-current/g)].map((m) => m[1]);
  return { ids, current };
}

describe('describeClient', () => {
  test.each([
    [FIREFOX, 'Firefox on Linux'],
    [SAFARI, 'Safari on iOS'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on macOS'],
    ['curl/8.5.0', 'curl'],
    ['something else', 'Unknown browser'],
    [null, 'Unknown browser'],
  ])('%s is "%s"', (userAgent, expected) => {
    expect(describeClient(userAgent)).toBe(expected);
  });
});

describe('the Devices panel (SESSION_MAX_SESSIONS=3)', () => {
  let app: App;
  beforeAll(() => {
    app = ctx.variant({ maxSessions: 3 });
  });

  test('lists each live session with browser, IP and times, this device marked, a Sign out button for each other', async () => {
    const laptop = await browser(app, 'dora', FIREFOX);
    const phone = await browser(app, 'dora', SAFARI);
    const page = (await laptop.get('/')).text;
    const { ids, current } = devicesOn(page);
    expect(ids).toHaveLength(2);
    expect(current).toHaveLength(1);
    expect(page).toContain('Signed in on 2 devices; this demo allows 3 at a time.');
    expect(page).toContain('Firefox on Linux</strong> <span class="tag">This device</span>');
    expect(page).toContain('Safari on iOS</strong>');
    expect(page).toMatch(/IP <span data-field="ip">[^<]*127\.0\.0\.1<\/span> · signed in <time datetime="[^"]+">/);
    expect(page).toMatch(/last active <time datetime=/);
    const other = ids.find((id) => id !== current[0])!;
    expect(page).toContain(`<input type="hidden" name="sessionId" value="${other}"><button type="submit" class="secondary small">Sign out</button>`);
    expect(page).not.toContain(`name="sessionId" value="${current[0]}"`);
    expect(page).toContain('Sign out all other devices');
    expect(devicesOn((await phone.get('/')).text).current).toEqual([other]);
  });

  test('Sign out on another device revokes it: that browser lands on /login with the revoked message', async () => {
    const laptop = await browser(app, 'erin', FIREFOX);
    const phone = await browser(app, 'erin', SAFARI);
    const { ids, current } = devicesOn((await laptop.get('/')).text);
    const phoneId = ids.find((id) => id !== current[0])!;
    const res = await laptop.post('/devices/sign-out').type('form').send({ sessionId: phoneId });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(devicesOn((await laptop.get('/')).text).ids).toEqual([current[0]]);
    const kicked = await phone.get('/');
    expect(kicked.headers.location).toBe('/login?reason=revoked');
    const banner = await phone.get('/login?reason=revoked');
    expect(banner.text).toContain('data-reason="revoked">This session was signed out from another device.</p>');
    const api = await phone.get('/api/session');
    expect(api.status).toBe(401);
  });

  test('"Sign out all other devices" keeps only this one', async () => {
    const here = await browser(app, 'fay');
    const others = [await browser(app, 'fay', SAFARI), await browser(app, 'fay', 'curl/8.5.0')];
    const res = await here.post('/devices/sign-out-others').type('form').send({});
    expect(res.status).toBe(303);
    const page = (await here.get('/')).text;
    expect(devicesOn(page).ids).toHaveLength(1);
    expect(page).not.toContain('Sign out all other devices');
    for (const other of others) expect((await other.get('/')).headers.location).toBe('/login?reason=revoked');
  });

  test('a cross-site form cannot sign devices out', async () => {
    const here = await browser(app, 'gus');
    const res = await here.post('/devices/sign-out-others').set('Origin', 'https://evil.example').type('form').send({});
    expect(res.status).toBe(403);
  });
});

describe('a request that still carries the cookie reauthenticate() replaced (SESSION_ROTATED)', () => {
  test('goes to /login?reason=rotated: with the new cookie the browser is sent on to /, with only the old one it sees the banner', async () => {
    const app = ctx.variant({});
    const cookieOf = (res: request.Response): string => String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    const signedIn = await request(app).post('/login').type('form').send({ username: 'rosa', password: 'demo' });
    const oldCookie = cookieOf(signedIn);
    expect(oldCookie).toMatch(/=./);
    const confirmed = await request(app).post('/confirm-password').set('Cookie', oldCookie).type('form').send({ password: 'demo' });
    expect(confirmed.status).toBe(303);
    const newCookie = cookieOf(confirmed);
    expect(newCookie).toMatch(/=./);
    expect(newCookie).not.toBe(oldCookie);
    const stale = await request(app).get('/').set('Cookie', oldCookie);
    expect(stale.status).toBe(303);
    expect(stale.headers.location).toBe('/login?reason=rotated');
    const banner = await request(app).get('/login?reason=rotated').set('Cookie', oldCookie);
    expect(banner.text).toContain('data-reason="rotated">Your password was confirmed in another tab');
    const onwards = await request(app).get('/login?reason=rotated').set('Cookie', newCookie);
    expect(onwards.status).toBe(303);
    expect(onwards.headers.location).toBe('/');
    expect((await request(app).get('/').set('Cookie', newCookie)).status).toBe(200);
  });
});

describe('SESSION_ON_LIMIT=reject-new', () => {
  test('the sign-in page says the account is signed in elsewhere, and the first browser stays signed in', async () => {
    const app = ctx.variant({ maxSessions: 1, onLimit: 'reject-new' });
    const first = await browser(app, 'hana');
    const login = await request(app).get('/login');
    expect(login.text).toContain('data-policy="reject-new"');
    const refused = await request(app).post('/login').type('form').send({ username: 'hana', password: 'demo' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('This account is already signed in elsewhere.');
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect((await first.get('/')).status).toBe(200);
    const api = await request(app).post('/api/login').send({ username: 'hana', password: 'demo' });
    expect(api.status).toBe(409);
    expect(api.body.error.code).toBe('SESSION_LIMIT_REACHED');
  });
});

describe('"Confirm your password" before "Change password" (recentLoginSeconds 1)', () => {
  let app: App;
  beforeAll(() => {
    app = ctx.variant({ recentLoginSeconds: 1 });
  });

  test('a fresh sign-in opens the page; an older one is sent to confirm; the password re-authenticates and goes back', async () => {
    const agent = await browser(app, 'ivan');
    expect((await agent.get('/')).text).toContain('<a href="/account/password">Change password</a>');
    const fresh = await agent.get('/account/password');
    expect(fresh.status).toBe(200);
    expect(fresh.text).toContain('<h1>Change password</h1>');
    await sleep(1200);
    const stale = await agent.get('/account/password');
    expect(stale.status).toBe(303);
    expect(stale.headers.location).toBe('/confirm-password');
    const form = await agent.get('/confirm-password');
    expect(form.text).toContain('<h1>Confirm your password</h1>');
    const wrong = await agent.post('/confirm-password').type('form').send({ password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That is not your password.');
    const before = (await agent.get('/api/session')).body.sessionId;
    const right = await agent.post('/confirm-password').type('form').send({ password: 'demo' });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe('/account/password');
    expect(String(right.headers['set-cookie'])).toMatch(/ess_sid=s%3A/);
    expect((await agent.get('/account/password')).status).toBe(200);
    const changed = await agent.post('/account/password').type('form').send({ newPassword: 'whatever' });
    expect(changed.text).toContain('Password changed');
    expect((await agent.get('/api/session')).body.sessionId).toBe(before);
  });

  test('without a session the step-up pages send the browser to sign in', async () => {
    expect((await request(app).get('/account/password')).headers.location).toBe('/login');
    expect((await request(app).get('/confirm-password')).headers.location).toBe('/login');
  });
});

describe('GET /metrics', () => {
  test('serves the Prometheus metrics of the session manager', async () => {
    const app = ctx.variant({});
    await browser(app, 'jane');
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^ess_sign_ins_total 1$/m);
    expect(res.text).toMatch(/ess_store_call_seconds_count\{operation="login",result="ok"\} 1/);
  });
});
