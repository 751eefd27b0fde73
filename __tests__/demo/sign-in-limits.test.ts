/**
 * The demo limits failed sign-ins per IP and per username with express-rate-limit, counted in Redis
 * (rate-limit-redis), so the limit holds across app processes: two app instances with their own
 * limiter objects share one count. Successful sign-ins do not count.
 */
import request from 'supertest';
import { createDemoApp } from '../../demo-app/app';
import type { SignInLimits } from '../../demo-app/sign-in-limits';
import { TEST_SECRET } from '../helpers/app';
import { keysWithPrefix } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const redis = TARGETS[0].ioredis();
afterAll(() => redis.quit());

function demo(limits: Partial<SignInLimits>, keyPrefix = uniquePrefix()) {
  return createDemoApp({ redis, secret: TEST_SECRET, keyPrefix, signInLimits: { perIp: 100, perUsername: 100, windowSeconds: 60, ...limits } }).app;
}

const attempt = (app: ReturnType<typeof demo>, username: string, password = 'wrong') => request(app).post('/api/login').send({ username, password });

test('per username: after the limit of failures even the right password is refused with 429, other users are not', async () => {
  const app = demo({ perUsername: 3 });
  for (let i = 0; i < 3; i++) expect((await attempt(app, 'victim')).status).toBe(401);
  const refused = await attempt(app, 'Victim ', 'demo'); // the same account, however it is spelt
  expect(refused.status).toBe(429);
  expect(refused.body.error.code).toBe('TOO_MANY_ATTEMPTS');
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect((await attempt(app, 'bystander', 'demo')).status).toBe(200);
});

test('per IP: failures spread over many usernames from one address hit the IP limit', async () => {
  const app = demo({ perIp: 4 });
  for (let i = 0; i < 4; i++) expect((await attempt(app, `guess-${i}`)).status).toBe(401);
  const refused = await attempt(app, 'guess-5', 'demo');
  expect(refused.status).toBe(429);
  expect(refused.body.error.code).toBe('TOO_MANY_ATTEMPTS');
});

test('successful sign-ins do not count', async () => {
  const app = demo({ perIp: 2, perUsername: 2 });
  for (let i = 0; i < 5; i++) expect((await attempt(app, 'regular', 'demo')).status).toBe(200);
});

test('the count lives in Redis: two app instances (as two processes would) share it', async () => {
  const keyPrefix = uniquePrefix();
  const [first, second] = [demo({ perUsername: 3 }, keyPrefix), demo({ perUsername: 3 }, keyPrefix)];
  expect((await attempt(first, 'shared')).status).toBe(401);
  expect((await attempt(second, 'shared')).status).toBe(401);
  expect((await attempt(first, 'shared')).status).toBe(401);
  expect((await attempt(second, 'shared', 'demo')).status).toBe(429);
  expect(await keysWithPrefix(redis, `${keyPrefix}rl:`)).toEqual(expect.arrayContaining([`${keyPrefix}rl:user:shared`]));
});

test('the sign-in form gets the form back with 429 and a message', async () => {
  const app = demo({ perUsername: 1 });
  const form = (password: string) => request(app).post('/login').type('form').send({ username: 'formuser', password });
  expect((await form('wrong')).status).toBe(401);
  const refused = await form('demo');
  expect(refused.status).toBe(429);
  expect(refused.headers['content-type']).toMatch(/html/);
  expect(refused.text).toMatch(/Too many failed sign-ins\. Try again in \d+ seconds\./);
});

test('works on a Redis Cluster (the script is loaded on every master)', async () => {
  const cluster = TARGETS[1].ioredis();
  try {
    const signInLimits = { perIp: 100, perUsername: 2, windowSeconds: 60 };
    const app = createDemoApp({ redis: cluster, secret: TEST_SECRET, keyPrefix: uniquePrefix(), signInLimits }).app;
    for (const user of ['c-one', 'c-two', 'c-three']) {
      for (let i = 0; i < 2; i++) expect((await attempt(app, user)).status).toBe(401);
      expect((await attempt(app, user, 'demo')).status).toBe(429);
    }
  } finally {
    await cluster.quit();
  }
});
