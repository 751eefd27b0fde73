/**
 * Options are validated once, when the manager is created: every mistake throws INVALID_OPTIONS
 * with a message that says what to fix. Pure logic: the client is never contacted.
 */
import Redis from 'ioredis';
import { createSessionManager, SessionError, type SessionManagerOptions } from '../lib';

const redis = new Redis({ lazyConnect: true });
afterAll(() => redis.disconnect());

function creationError(options: unknown): SessionError {
  try {
    createSessionManager(options as SessionManagerOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('createSessionManager accepted the options');
}

test('defaults need only a client', () => {
  expect(() => createSessionManager({ redis })).not.toThrow();
});

const invalid: [string, unknown, RegExp][] = [
  ['no options', undefined, /needs an options object/],
  ['no client', {}, /`redis` must be an ioredis client/],
  ['a plain object as client', { redis: { get() {} } }, /`redis` must be an ioredis client/],
  ['a misspelt option', { redis, idletimeout: 5 }, /unsupported option `idletimeout`\. Did you mean `idleTimeout`\?/],
  ['an unknown option', { redis, ttl: 5 }, /unsupported option `ttl`\. Supported:/],
  ['a zero idle timeout', { redis, idleTimeout: 0 }, /`idleTimeout` must be a positive number of seconds; received 0/],
  ['a string idle timeout', { redis, idleTimeout: '30' }, /`idleTimeout` must be a positive number/],
  ['an infinite absolute timeout', { redis, absoluteTimeout: Infinity }, /`absoluteTimeout` must be a positive number/],
  ['absoluteTimeout: true', { redis, absoluteTimeout: true }, /`absoluteTimeout` must be a positive number/],
  ['an index factor below 1', { redis, indexTtlFactor: 0.5 }, /`indexTtlFactor` must be a number of at least 1/],
  ['a key prefix with a brace', { redis, keyPrefix: 'a{b' }, /`keyPrefix` must be .* without `\{` or `\}`/],
  ['a fractional store timeout', { redis, storeTimeoutMs: 1.5 }, /`storeTimeoutMs` must be a whole number/],
  ['a negative store timeout', { redis, storeTimeoutMs: -1 }, /`storeTimeoutMs` must be a whole number/],
  ['onError that is not a function', { redis, onError: 'log' }, /`onError` must be a function/],
  ['a misspelt cookie option', { redis, cookie: { samesite: 'lax' } }, /`cookie\.samesite`\. Did you mean `cookie\.sameSite`\?/],
  ['a cookie name with a space', { redis, cookie: { name: 'my sid' } }, /`cookie\.name` must be a valid cookie name/],
  ['secure: "yes"', { redis, cookie: { secure: 'yes' } }, /`cookie\.secure` must be true, false or 'auto'/],
  ['sameSite none without secure', { redis, cookie: { sameSite: 'none' } }, /requires `cookie\.secure: true`/],
  ['a __Host- cookie with a domain', { redis, cookie: { name: '__Host-s', domain: 'example.com' } }, /`__Host-` cookie needs/],
  ['a __Host- cookie that may be insecure', { redis, cookie: { name: '__Host-s', secure: false } }, /`__Host-` cookie needs/],
  ['a relative cookie path', { redis, cookie: { path: 'app' } }, /`cookie\.path` must be a string starting with `\/`/],
  ['a misspelling that is not only case', { redis, idleTimout: 5 }, /unsupported option `idleTimout`\. Did you mean `idleTimeout`\?/],
  ['an absolute timeout shorter than the idle one', { redis, idleTimeout: 3600, absoluteTimeout: 600 },
    /`absoluteTimeout` \(600 s\) is shorter than `idleTimeout` \(3600 s\).*set `absoluteTimeout` to at least 3600, or to false/],
  ['an idle timeout longer than the default absolute one', { redis, idleTimeout: 86400 },
    /`absoluteTimeout` \(28800 s \(the default\)\) is shorter than `idleTimeout` \(86400 s\)/],
  ['an idle timeout in milliseconds', { redis, idleTimeout: 1_800_000 * 20, absoluteTimeout: false },
    /`idleTimeout` is 36000000 seconds, more than a year\. The unit is seconds, not milliseconds: did you mean idleTimeout: 36000\?/],
  ['an absolute timeout in milliseconds', { redis, absoluteTimeout: 86_400_000 }, /`absoluteTimeout` is 86400000 seconds, more than a year\. The unit is seconds/],
];

test.each(invalid)('%s is refused with INVALID_OPTIONS', (_name, options, message) => {
  const err = creationError(options);
  expect(err.code).toBe('INVALID_OPTIONS');
  expect(err.message).toMatch(/^express-single-session: /);
  expect(err.message).toMatch(message);
});

test('an insecure cookie is an explicit opt-in that warns once', () => {
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    createSessionManager({ redis, cookie: { secure: false } });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/cookie\.secure is false/);
  } finally {
    warn.mockRestore();
  }
});

test('requireSession() checks its own options', () => {
  const sessions = createSessionManager({ redis });
  expect(() => sessions.requireSession({ onReject: 'nope' } as never)).toThrow(/requireSession\(\) takes/);
});

test('requireSession() refuses an unknown option with INVALID_OPTIONS and says which one was meant', () => {
  const sessions = createSessionManager({ redis });
  let error: unknown;
  try {
    sessions.requireSession({ onRejct: () => undefined } as never);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(SessionError);
  expect((error as SessionError).code).toBe('INVALID_OPTIONS');
  expect((error as SessionError).message).toBe('express-single-session: requireSession() received an unsupported option `onRejct`. Did you mean `onReject`?');
  expect(() => sessions.requireSession({ redirect: '/login' } as never)).toThrow(/unsupported option `redirect`\. Supported: onReject\./);
});

test('timeouts up to a year, and an absolute timeout equal to the idle one, are accepted', () => {
  expect(() => createSessionManager({ redis, idleTimeout: 365 * 24 * 3600, absoluteTimeout: false })).not.toThrow();
  expect(() => createSessionManager({ redis, idleTimeout: 600, absoluteTimeout: 600 })).not.toThrow();
});
