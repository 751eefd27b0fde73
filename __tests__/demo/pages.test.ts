/**
 * The demo's HTML pages, in-process through supertest against the shared test Redis: the sign-in
 * form, the signed-in page, the banners for displaced and expired sessions, escaping of
 * user-provided text, and the same-origin check on forms.
 */
import request from 'supertest';
import { useDemoApp } from './use-demo-app';

const ctx = useDemoApp();

/** A browser-like client that keeps cookies, signed in as `username` through the form. */
async function signedInAgent(username: string) {
  const agent = request.agent(ctx.app);
  const res = await agent.post('/login').type('form').send({ username, password: 'demo' });
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/');
  return agent;
}

describe('the sign-in page', () => {
  test('has a form posting username and password to /login, and states the demo password', async () => {
    const res = await request(ctx.app).get('/login');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<form method="post" action="\/login"/);
    expect(res.text).toMatch(/<input name="username"/);
    expect(res.text).toMatch(/<input name="password" type="password"/);
    expect(res.text).toContain('<code>demo</code>');
  });

  test('is served with a strict Content-Security-Policy and no caching', async () => {
    const res = await request(ctx.app).get('/login');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toMatch(/<script>|style="/); // nothing inline for the CSP to block
  });

  test.each([
    ['displaced', 'You were signed out because your account signed in somewhere else.'],
    ['expired', 'Your session expired. Please sign in again.'],
    ['signed-out', 'You have signed out.'],
    ['revoked', 'This session was signed out from another device.'],
    ['signed-out-elsewhere', 'You signed out in another tab or window.'],
  ])('?reason=%s shows its banner', async (reason, text) => {
    const res = await request(ctx.app).get(`/login?reason=${reason}`);
    expect(res.text).toContain(`data-reason="${reason}">${text}</p>`);
  });

  test('an unknown reason shows no banner and is never echoed', async () => {
    const res = await request(ctx.app).get('/login?reason=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('data-reason');
    expect(res.text).not.toContain('alert(1)');
  });

  test('a wrong password shows the form again with an error, the username escaped, and sets no cookie', async () => {
    const res = await request(ctx.app).post('/login').type('form').send({ username: '"><script>x()</script>', password: 'nope' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('role="alert">Wrong username or password.');
    expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"');
    expect(res.text).not.toContain('<script>x()');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test('a form without a username is a 400 page, not a 500', async () => {
    const res = await request(ctx.app).post('/login').type('form').send({ password: 'demo' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('role="alert">Send a username and a password');
  });

  test('a signed-in browser is sent on to its session page', async () => {
    const agent = await signedInAgent('lena');
    const res = await agent.get('/login');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });
});

describe('the session page', () => {
  test('without a session redirects to /login with no banner', async () => {
    const res = await request(ctx.app).get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
  });

  test('shows who you are, the session handle, its times and a sign-out button, with the username escaped', async () => {
    const agent = await signedInAgent('<img src=x onerror=alert(1)>');
    const session = (await agent.get('/api/session')).body;
    const res = await agent.get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Signed in as <span class="user" data-field="userId">&lt;img src=x onerror=alert(1)&gt;</span>');
    expect(res.text).not.toContain('<img');
    expect(res.text).toContain(`<code data-field="sessionId">${session.sessionId}</code>`);
    expect(res.text).toContain(`datetime="${session.createdAt}" data-field="createdAt"`);
    for (const field of ['lastActiveAt', 'idleExpiresAt', 'absoluteExpiresAt', 'expiresAt']) expect(res.text).toContain(`data-field="${field}"`);
    expect(res.text).toMatch(/<form method="post" action="\/logout"><button type="submit"[^>]*>Sign out<\/button>/);
    expect(res.text).toContain('<script src="/live.js"></script>');
  });

  test('after the same user signs in elsewhere, the first browser lands on /login with the displaced banner', async () => {
    const first = await signedInAgent('mallory');
    await signedInAgent('Mallory');
    const res = await first.get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?reason=displaced');
    expect((await first.get(res.headers.location)).text).toContain('signed in somewhere else');
  });

  test('after the idle timeout, the browser lands on /login with the expired banner', async () => {
    const shortLived = ctx.variant({ idleTimeout: 2 }); // 2 s for the two requests before the wait, on a loaded machine
    const agent = request.agent(shortLived);
    await agent.post('/login').type('form').send({ username: 'nina', password: 'demo' });
    const expiresAt = Date.parse((await agent.get('/api/session')).body.expiresAt);
    // Polling would refresh the session, so wait once until just past the expiry Redis was given.
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 200));
    const res = await agent.get('/');
    expect(res.headers.location).toBe('/login?reason=expired');
  });

  test('signing out clears the cookie, says so, and the session is gone', async () => {
    const agent = await signedInAgent('oscar');
    const res = await agent.post('/logout');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?reason=signed-out');
    expect(([] as string[]).concat(res.headers['set-cookie'])).toEqual([expect.stringMatching(/^ess_sid=;/)]);
    expect((await agent.get('/')).headers.location).toBe('/login');
  });
});

describe('forms are protected against cross-site requests', () => {
  test.each([
    ['an Origin of another site', { Origin: 'https://evil.example' }],
    ['a Referer of another site', { Referer: 'https://evil.example/page' }],
    ['the opaque Origin "null"', { Origin: 'null' }],
  ])('a sign-in POST with %s is refused with 403 and no cookie', async (_name, headers) => {
    const res = await request(ctx.app).post('/login').set(headers).type('form').send({ username: 'peggy', password: 'demo' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Forms can only be sent from this site.');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test('a sign-out POST from another site leaves the session alone', async () => {
    const agent = await signedInAgent('quentin');
    expect((await agent.post('/logout').set('Origin', 'https://evil.example')).status).toBe(403);
    expect((await agent.get('/api/session')).status).toBe(200);
  });

  test('a POST whose Origin is this host is accepted', async () => {
    const res = await request(ctx.app).post('/login').set('Host', 'demo.test').set('Origin', 'http://demo.test').type('form').send({ username: 'peggy', password: 'demo' });
    expect(res.status).toBe(303);
  });
});

test('the stylesheet and the live script are served as static files', async () => {
  const css = await request(ctx.app).get('/demo.css');
  expect(css.status).toBe(200);
  expect(css.headers['content-type']).toMatch(/^text\/css/);
  const js = await request(ctx.app).get('/live.js');
  expect(js.status).toBe(200);
  expect(js.text).toContain("new EventSource('/api/session/events')");
  expect(js.text).toContain("fetch('/api/session'"); // the fallback when EventSource fails
});
