/**
 * The local cache's bookkeeping, without Redis: which reads in flight may be stored after an
 * invalidation (only those whose own user was not invalidated, none after a flush), and the LRU bound.
 */
import { SessionCache } from '../lib/cache';
import type { StoredSession } from '../lib/store/records';

const session = (userId: string): StoredSession => ({
  userId, sessionId: `s-${userId}`, createdAt: 1, lastActiveAt: 1, observedAt: 1, authenticatedAt: 1, absoluteDeadline: 0, data: new Map(),
});
/** A Redis key of the user with tag `tag`, as tracking reports it. */
const keyOf = (tag: string): string => `ess:{${tag}}:v2:hash`;

test('a read sent before its user was invalidated is not stored; another user\'s invalidation does not stop it', () => {
  const cache = new SessionCache(10);
  const sentA = cache.epoch;
  const sentB = cache.epoch;
  cache.invalidate([keyOf('userA')]);
  cache.set('userA', 'h1', session('a'), sentA);
  cache.set('userB', 'h2', session('b'), sentB);
  expect(cache.get('userA', 'h1')).toBeUndefined();
  expect(cache.get('userB', 'h2')?.userId).toBe('b');
  // A read of the invalidated user sent after the invalidation is stored.
  cache.set('userA', 'h1', session('a'), cache.epoch);
  expect(cache.get('userA', 'h1')?.userId).toBe('a');
});

test('this process\'s own write of a user drops the entry and the reads in flight, as an invalidation does', () => {
  const cache = new SessionCache(10);
  cache.set('userA', 'h1', session('a'), cache.epoch);
  const sent = cache.epoch;
  cache.dropUser('userA');
  expect(cache.get('userA', 'h1')).toBeUndefined();
  cache.set('userA', 'h1', session('a'), sent);
  expect(cache.get('userA', 'h1')).toBeUndefined();
});

test('a flush drops every entry and every read in flight', () => {
  const cache = new SessionCache(10);
  cache.set('userA', 'h1', session('a'), cache.epoch);
  const sent = cache.epoch;
  cache.invalidate(null);
  expect(cache.size).toBe(0);
  cache.set('userB', 'h2', session('b'), sent);
  expect(cache.get('userB', 'h2')).toBeUndefined();
});

test('when many users were invalidated since, a read older than what is remembered is not stored', () => {
  const cache = new SessionCache(10);
  const sent = cache.epoch;
  for (let i = 0; i < 10_001; i++) cache.dropUser(`other-${i}`);
  cache.set('userA', 'h1', session('a'), sent);
  expect(cache.get('userA', 'h1')).toBeUndefined();
  cache.set('userA', 'h1', session('a'), cache.epoch);
  expect(cache.get('userA', 'h1')?.userId).toBe('a');
});

test('the cache keeps at most maxEntries, dropping the least recently used', () => {
  const cache = new SessionCache(2);
  cache.set('u1', 'h', session('1'), cache.epoch);
  cache.set('u2', 'h', session('2'), cache.epoch);
  cache.get('u1', 'h');
  cache.set('u3', 'h', session('3'), cache.epoch);
  expect(cache.size).toBe(2);
  expect(cache.get('u2', 'h')).toBeUndefined();
  expect(cache.get('u1', 'h')?.userId).toBe('1');
});
