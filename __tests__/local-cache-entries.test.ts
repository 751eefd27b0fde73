/**
 * The local cache's bookkeeping, without Redis: which reads in flight may be stored after an
 * invalidation (only those whose own user was not invalidated, none after a flush), the LRU bound, and
 * when concurrent misses of one session share a read (reads are stand-ins here: this is the rule alone).
 */
import { SessionCache } from '../lib/cache';
import type { ConnectionState } from '../lib/clients/adapter';
import type { TrackedReader } from '../lib/clients/tracking';
import { createLocalReads } from '../lib/store/local-reads';
import type { StoredSession } from '../lib/store/records';
import type { SessionRef } from '../lib/token';

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

test('an invalidation of a user drops the entry and the reads in flight', () => {
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

/**
 * A cached lookup over a stand-in read whose answers the test releases one by one, and a stand-in
 * barrier the test holds until `release()` (or fails with `fail()`).
 */
function lookups(cache: SessionCache) {
  const pending: Array<{ resolve: (value: StoredSession | string) => void; reject: (err: Error) => void }> = [];
  const fallbacks: string[] = [];
  let held: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const reader = {
    state: (): ConnectionState => 'ready',
    barrier: () => new Promise<void>((resolve, reject) => held.push({ resolve, reject })),
  } as unknown as TrackedReader;
  const read = (): Promise<StoredSession | string> => new Promise((resolve, reject) => pending.push({ resolve, reject }));
  const fallback = async (r: SessionRef): Promise<StoredSession | string> => {
    fallbacks.push(r.userTag);
    return 'SESSION_EXPIRED';
  };
  const local = createLocalReads(cache, reader, read, fallback, (hit) => ({ ...hit, data: new Map(hit.data) }));
  const settle = async (how: 'release' | 'fail'): Promise<void> => {
    const batch = held;
    held = [];
    for (const waiter of batch) if (how === 'release') waiter.resolve();
    else waiter.reject(new Error('lost'));
    await tick();
  };
  return { local, pending, fallbacks, waiting: () => held.length, release: () => settle('release'), fail: () => settle('fail') };
}
const ref = (userTag: string, tokenHash = 'h'): SessionRef => ({ userTag, tokenHash }) as SessionRef;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('misses of one session while a read of it is on its way wait for the barrier, then for that read; each gets its own copy', async () => {
  const cache = new SessionCache(10);
  const { local, pending, release } = lookups(cache);
  const first = local.lookup(ref('userA'));
  const second = local.lookup(ref('userA'));
  const other = local.lookup(ref('userB'));
  await release();
  expect(pending).toHaveLength(2); // one read for userA, one for userB
  pending[0]!.resolve(session('a'));
  pending[1]!.resolve(session('b'));
  const [one, two] = (await Promise.all([first, second])) as StoredSession[];
  expect(one!.userId).toBe('a');
  expect(two).toEqual(one);
  expect(two).not.toBe(one);
  expect(two!.data).not.toBe(one!.data);
  expect(((await other) as StoredSession).userId).toBe('b');
  expect(local.inFlight()).toBe(0);
  // Stored: the next lookup is a hit once the barrier returns, no read.
  const hit = local.lookup(ref('userA'));
  await release();
  expect(((await hit) as StoredSession).userId).toBe('a');
  expect(pending).toHaveLength(2);
});

test('a hit is not answered before the barrier returns; an invalidation delivered before it makes the hit a read', async () => {
  const cache = new SessionCache(10);
  cache.set('userA', 'h', session('a'), cache.epoch);
  const { local, pending, waiting, release } = lookups(cache);
  let answered = false;
  const looked = local.lookup(ref('userA')).then((found) => ((answered = true), found));
  await tick();
  expect(waiting()).toBe(1);
  expect(answered).toBe(false);
  cache.invalidate([keyOf('userA')]);
  await release();
  expect(answered).toBe(false);
  expect(pending).toHaveLength(1);
  pending[0]!.resolve('SESSION_REVOKED');
  expect(await looked).toBe('SESSION_REVOKED');
});

test('a barrier that fails reads Redis directly (the loss has dropped everything)', async () => {
  const cache = new SessionCache(10);
  cache.set('userA', 'h', session('a'), cache.epoch);
  const { local, pending, fallbacks, fail } = lookups(cache);
  const looked = local.lookup(ref('userA'));
  await fail();
  expect(await looked).toBe('SESSION_EXPIRED');
  expect(fallbacks).toEqual(['userA']);
  expect(pending).toHaveLength(0);
});

test('a miss after its user was invalidated does not wait for a read sent before: it reads again, and the old read is not stored', async () => {
  const cache = new SessionCache(10);
  const { local, pending, release } = lookups(cache);
  const before = local.lookup(ref('userA'));
  cache.invalidate([keyOf('userA')]);
  const after = local.lookup(ref('userA'));
  await release();
  expect(pending).toHaveLength(2);
  pending[0]!.resolve(session('old'));
  pending[1]!.resolve('SESSION_REVOKED');
  expect(((await before) as StoredSession).userId).toBe('old');
  expect(await after).toBe('SESSION_REVOKED');
  await tick();
  expect(cache.get('userA', 'h')).toBeUndefined();
});

test('another user\'s invalidation does not stop a miss from sharing the read on its way', async () => {
  const cache = new SessionCache(10);
  const { local, pending, release } = lookups(cache);
  const first = local.lookup(ref('userA'));
  cache.invalidate([keyOf('userB')]);
  const second = local.lookup(ref('userA'));
  await release();
  expect(pending).toHaveLength(1);
  pending[0]!.resolve(session('a'));
  expect(((await second) as StoredSession).userId).toBe('a');
  expect(((await first) as StoredSession).userId).toBe('a');
});

test('a failed read fails every request that waited for it, and the next miss reads again', async () => {
  const cache = new SessionCache(10);
  const { local, pending, release } = lookups(cache);
  const first = local.lookup(ref('userA'));
  const second = local.lookup(ref('userA'));
  await release();
  pending[0]!.reject(new Error('store timeout'));
  await expect(first).rejects.toThrow('store timeout');
  await expect(second).rejects.toThrow('store timeout');
  const third = local.lookup(ref('userA'));
  expect(pending).toHaveLength(2);
  pending[1]!.resolve(session('a'));
  expect(((await third) as StoredSession).userId).toBe('a');
});
