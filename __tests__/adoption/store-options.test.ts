/**
 * createSessionStore()'s options are checked once, at creation, with the manager's messages and codes,
 * and the Store is express-session's own kind of Store (so regenerate, load and createSession work).
 */
import { createRequire } from 'node:module';
import Redis from 'ioredis';
import { createSessionStore, SessionError, type SessionStoreOptions } from '../../lib/express-session';

const { Store } = createRequire(__filename)('express-session') as { Store: new () => object };
const redis = new Redis({ lazyConnect: true });
afterAll(() => redis.disconnect());

function failure(options: unknown): SessionError {
  try {
    createSessionStore(options as SessionStoreOptions);
  } catch (err) {
    return err as SessionError;
  }
  throw new Error('createSessionStore accepted the options');
}

test('the store inherits express-session\'s Store', () => {
  const store = createSessionStore({ redis });
  expect(store).toBeInstanceOf(Store);
  for (const method of ['regenerate', 'load', 'createSession', 'get', 'set', 'destroy', 'touch', 'all', 'length', 'clear']) {
    expect(typeof (store as unknown as Record<string, unknown>)[method]).toBe('function');
  }
});

test('an unknown option is refused with a suggestion; manager-only options are unknown here', () => {
  expect(failure({ redis, maxSession: 1 })).toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('Did you mean `maxSessions`?') });
  expect(failure({ redis, cookie: {} })).toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('createSessionStore() received an unsupported option `cookie`') });
});

test('the manager\'s checks apply, and userOf must be a function', () => {
  expect(failure({ redis, onLimit: 'oldest' })).toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining("'displace-oldest' or 'reject-new'") });
  expect(failure({ redis: {} })).toMatchObject({ code: 'INVALID_OPTIONS' });
  expect(failure({ redis, userOf: 'passport.user' })).toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('`userOf` must be a function') });
  expect(failure(null)).toBeInstanceOf(SessionError);
});

test('a Redis that does not answer fails the call with SESSION_STORE_UNAVAILABLE and a store-error event', async () => {
  const down = new Redis({ port: 1, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  down.on('error', () => undefined);
  try {
    const store = createSessionStore({ redis: down, storeTimeoutMs: 200 });
    const events: unknown[] = [];
    store.on('store-error', (event) => events.push(event));
    const error = await new Promise((resolve) => store.get('some-session-id-0123456789', (err) => resolve(err)));
    expect(error).toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE' });
    expect(events).toEqual([{ error, operation: 'get' }]);
  } finally {
    down.disconnect();
  }
});
