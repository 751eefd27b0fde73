/**
 * The demo's step-up form ("Confirm your password") is limited as sign-in is: wrong passwords count per
 * account (and per IP) in Redis, and past the limit even the right password is refused with 429.
 */
import request from 'supertest';
import { createDemoApp } from '../../demo-app/app';
import { TEST_SECRET } from '../helpers/app';
import { sessionCookieOf } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const redis = TARGETS[0].ioredis();
afterAll(() => redis.quit());

test('after the per-username limit of wrong confirmations, the right password is refused too, and sign-in shares the count', async () => {
  const signInLimits = { perIp: 100, perUsername: 3, windowSeconds: 60 };
  const { app } = createDemoApp({ redis, secret: TEST_SECRET, keyPrefix: uniquePrefix(), signInLimits, recentLoginSeconds: 1 });
  const login = await request(app).post('/api/login').send({ username: 'stepper', password: 'demo' });
  expect(login.status).toBe(200);
  const cookie = sessionCookieOf(login.headers['set-cookie']);
  const confirm = (password: string) => request(app).post('/confirm-password').set('Cookie', cookie).type('form').send({ password });

  for (let i = 0; i < 3; i++) expect((await confirm('wrong')).status).toBe(401);
  const refused = await confirm('demo');
  expect(refused.status).toBe(429);
  expect(refused.headers['content-type']).toMatch(/html/);
  expect(refused.text).toMatch(/Too many wrong passwords\. Try again in \d+ seconds\./);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  // The same account's sign-in is refused too: guessing moved from one form to the other gains nothing.
  expect((await request(app).post('/api/login').send({ username: 'stepper', password: 'demo' })).status).toBe(429);
  // Another account is not affected.
  expect((await request(app).post('/api/login').send({ username: 'bystander', password: 'demo' })).status).toBe(200);
});

test('a right confirmation below the limit still passes and does not count', async () => {
  const signInLimits = { perIp: 100, perUsername: 2, windowSeconds: 60 };
  const { app } = createDemoApp({ redis, secret: TEST_SECRET, keyPrefix: uniquePrefix(), signInLimits });
  const login = await request(app).post('/api/login').send({ username: 'confirmer', password: 'demo' });
  const cookie = sessionCookieOf(login.headers['set-cookie']);
  let current = cookie;
  for (let i = 0; i < 4; i++) {
    const ok = await request(app).post('/confirm-password').set('Cookie', current).type('form').send({ password: 'demo' });
    expect(ok.status).toBe(303);
    current = sessionCookieOf(ok.headers['set-cookie']);
  }
});
