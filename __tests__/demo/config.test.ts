/**
 * The demo's settings from the environment (pure logic, no Redis): defaults, the values a person
 * may try by hand, and one clear error per bad value. Also which Redis REDIS_URL selects.
 */
import { DEFAULTS, DemoConfigError, readConfig } from '../../demo-app/config';
import type Redis from 'ioredis';
import { closeRedis, redisFromEnv } from '../../demo-app/redis';
import { DEFAULT_REDIS_CLIENT } from '../../demo-app/redis-from-env';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';

test('with nothing set: port 3000 on 127.0.0.1, the package default timeouts, and a random secret', () => {
  const a = readConfig({});
  const b = readConfig({});
  expect(a).toMatchObject({ port: 3000, host: '127.0.0.1', idleTimeout: 1800, absoluteTimeout: 28800, secretIsRandom: true });
  expect(a.secret).toMatch(/^[0-9a-f]{64}$/);
  expect(a.secret).not.toBe(b.secret);
  expect(DEFAULTS).toMatchObject({ idleTimeout: 1800, absoluteTimeout: 28800 });
});

test('reads PORT, HOST, SESSION_SECRET and both timeouts', () => {
  const config = readConfig({ PORT: '0', HOST: '0.0.0.0', SESSION_SECRET: SECRET, SESSION_IDLE_TIMEOUT: '2', SESSION_ABSOLUTE_TIMEOUT: '10.5' });
  expect(config).toEqual({
    port: 0, host: '0.0.0.0', secret: SECRET, secretIsRandom: false, idleTimeout: 2, absoluteTimeout: 10.5, maxSessions: 1, onLimit: 'displace-oldest',
  });
});

test('SESSION_ABSOLUTE_TIMEOUT=off turns the absolute limit off', () => {
  expect(readConfig({ SESSION_ABSOLUTE_TIMEOUT: 'off' }).absoluteTimeout).toBe(false);
});

test('SESSION_MAX_SESSIONS and SESSION_ON_LIMIT set the sign-in policy (default: one session, the newest sign-in wins)', () => {
  expect(readConfig({})).toMatchObject({ maxSessions: 1, onLimit: 'displace-oldest' });
  expect(readConfig({ SESSION_MAX_SESSIONS: '3', SESSION_ON_LIMIT: 'reject-new' })).toMatchObject({ maxSessions: 3, onLimit: 'reject-new' });
});

test('empty values count as unset', () => {
  expect(readConfig({ PORT: '', SESSION_IDLE_TIMEOUT: ' ', SESSION_SECRET: '' })).toMatchObject({ port: 3000, idleTimeout: 1800, secretIsRandom: true });
});

test.each([
  [{ PORT: 'eighty' }, 'PORT must be a whole number from 0 to 65535; received "eighty".'],
  [{ PORT: '70000' }, 'PORT must be a whole number from 0 to 65535; received "70000".'],
  [{ SESSION_IDLE_TIMEOUT: '0' }, 'SESSION_IDLE_TIMEOUT must be a positive number of seconds, e.g. 60; received "0".'],
  [{ SESSION_IDLE_TIMEOUT: '-5' }, 'SESSION_IDLE_TIMEOUT must be a positive number of seconds, e.g. 60; received "-5".'],
  [{ SESSION_IDLE_TIMEOUT: '30m' }, 'SESSION_IDLE_TIMEOUT must be a positive number of seconds, e.g. 60; received "30m".'],
  [{ SESSION_ABSOLUTE_TIMEOUT: 'never' }, 'SESSION_ABSOLUTE_TIMEOUT must be a positive number of seconds, e.g. 60, or "off" for no absolute limit; received "never".'],
  [{ SESSION_MAX_SESSIONS: '0' }, 'SESSION_MAX_SESSIONS must be a whole number from 1 to 1000 (live sessions per user); received "0".'],
  [{ SESSION_MAX_SESSIONS: 'two' }, 'SESSION_MAX_SESSIONS must be a whole number from 1 to 1000 (live sessions per user); received "two".'],
  [{ SESSION_ON_LIMIT: 'oldest' }, 'SESSION_ON_LIMIT must be displace-oldest or reject-new; received "oldest".'],
  [{ SESSION_SECRET: 'short' }, 'SESSION_SECRET must be at least 32 characters long (make one with: openssl rand -hex 32).'],
])('%j is refused with one clear line', (env, message) => {
  expect(() => readConfig(env)).toThrow(new DemoConfigError(message));
});

describe('redisFromEnv', () => {
  test('without REDIS_URL it names no Redis, so the demo starts its own', () => {
    expect(redisFromEnv({})).toBeNull();
    expect(redisFromEnv({ REDIS_URL: '  ' })).toBeNull();
  });

  test('REDIS_URL with REDIS_CLIENT=ioredis gives a lazily connecting ioredis client and a description without the password', () => {
    const configured = redisFromEnv({ REDIS_URL: 'redis://user:hunter2@127.0.0.1:1/0', REDIS_CLIENT: 'ioredis' })!;
    try {
      expect(configured.library).toBe('ioredis');
      expect(configured.description).toBe('redis://user:***@127.0.0.1:1/0');
      expect((configured.client as Redis).status).toBe('wait');
    } finally {
      closeRedis(configured);
    }
  });

  test('REDIS_URL with REDIS_CLIENT=node-redis (or unset: the default) gives a node-redis client that is not connected yet', () => {
    for (const env of [{ REDIS_CLIENT: 'node-redis' }, {}]) {
      const configured = redisFromEnv({ REDIS_URL: 'redis://127.0.0.1:1', ...env })!;
      expect(configured.library).toBe(env.REDIS_CLIENT ?? DEFAULT_REDIS_CLIENT);
      if (configured.library === 'node-redis') expect((configured.client as { isOpen: boolean }).isOpen).toBe(false);
      closeRedis(configured);
    }
  });

  test('REDIS_CLIENT other than ioredis or node-redis is refused with one clear line, with or without REDIS_URL', () => {
    const message = 'REDIS_CLIENT must be ioredis or node-redis; received "valkey".';
    expect(() => redisFromEnv({ REDIS_CLIENT: 'valkey' })).toThrow(new DemoConfigError(message));
    expect(() => redisFromEnv({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLIENT: 'valkey' })).toThrow(new DemoConfigError(message));
  });

  test.each([
    ['not a URL', 'REDIS_URL is not a URL: "not a URL"; expected redis://host:port.'],
    ['http://127.0.0.1:6379', 'REDIS_URL must start with redis:// or rediss://; received http://...'],
    ['http://u:pw@h', 'REDIS_URL must start with redis:// or rediss://; received http://...'],
  ])('REDIS_URL=%s is refused with one clear line', (url, message) => {
    expect(() => redisFromEnv({ REDIS_URL: url })).toThrow(new DemoConfigError(message));
  });
});
