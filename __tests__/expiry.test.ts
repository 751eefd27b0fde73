/**
 * The TTL policy: sliding idle expiry refreshed by every authenticated request, an absolute
 * lifetime that activity cannot extend, and a user index living 1.5x the idle TTL. Timing is read
 * from Redis (PTTL) and from the expiry the app announces, and waits are for a key to expire, never
 * a race against a short timeout: a loaded machine can only make them slower, not wrong.
 */
import request from 'supertest';
import { waitUntil } from './helpers/redis-servers';
import { buildOn, describeUncached, isIndexKey, isSessionKey, keysWithPrefix, signIn, sleep, useApp, type SuiteContext } from './helpers/suite';
import { BEHAVIOUR_TARGETS } from './helpers/targets';

describe.each(BEHAVIOUR_TARGETS)('expiry ($name)', (target) => {
  /** The PTTL of `userId`'s only session record under `prefix` (-2 once it is gone). */
  async function recordPttl(ctx: SuiteContext): Promise<number> {
    const key = (await keysWithPrefix(ctx.redis, ctx.prefix)).find(isSessionKey);
    return key ? ctx.redis.pttl(key) : -2;
  }

  /** Resolves once no session record is left under the test's prefix (Redis expired it). */
  async function recordGone(ctx: SuiteContext): Promise<void> {
    await waitUntil('the session record to expire', async () => (await recordPttl(ctx)) === -2, 10_000, 20);
  }

  describe('idle timeout of 20 s, no absolute lifetime (default touchAfter: 0.2 s)', () => {
    const ctx = useApp(target, { idleTimeout: 20, absoluteTimeout: false });
    // Plain reads and local cache hits carry no time from Redis: a request announces its times from this
    // process's estimate of Redis's clock (learnt at the midpoint of the last script's round trip), which
    // can trail by half a round trip on a loaded machine (6 ms seen with the cache, 2 ms past a 5 ms slack
    // on a Cluster with node-redis in CI). Announcing a few ms early is the safe side: Redis's own TTL is
    // checked above.
    const clockSlackMs = 100;

    test('each request once the refresh is due slides the idle expiry to a full idleTimeout from that request', async () => {
      const cookie = await signIn(ctx.app, 'idle-user');
      let previous = 0;
      for (let i = 0; i < 3; i++) {
        await sleep(400); // past touchAfter (200 ms): this request refreshes
        const sent = Date.now();
        const res = await request(ctx.app).get('/me').set('Cookie', cookie);
        expect(res.status).toBe(200);
        expect(res.body.absoluteExpiresAt).toBeNull();
        // The refresh is sent without making the request wait: Redis is given 20 s from a moment after
        // the request was sent, so the PTTL soon reads at least 20 s minus the time since then.
        await waitUntil('the refresh to reach Redis', async () => (await recordPttl(ctx)) >= 20_000 - (Date.now() - sent) - 5, 5000, 10);
        expect(await recordPttl(ctx)).toBeLessThanOrEqual(20_000);
        const expiresAt = Date.parse(res.body.expiresAt);
        expect(expiresAt).toBeGreaterThanOrEqual(sent + 20_000 - clockSlackMs);
        expect(expiresAt).toBeGreaterThan(previous);
        previous = expiresAt;
      }
    });
  });

  describe('idle timeout of 1 s, no absolute lifetime', () => {
    const ctx = useApp(target, { idleTimeout: 1, absoluteTimeout: false });

    test('an idle session ends when Redis expires it: SESSION_EXPIRED, the cookie cleared', async () => {
      const started = Date.now();
      const cookie = await signIn(ctx.app, 'idle-user');
      expect(await recordPttl(ctx)).toBeLessThanOrEqual(1000);
      await recordGone(ctx);
      // Never before the idle timeout: Redis was given 1 s after the sign-in was sent.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000 - 5);
      const res = await request(ctx.app).get('/me').set('Cookie', cookie);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('SESSION_EXPIRED');
      expect(String(res.headers['set-cookie'])).toMatch(/ess_sid=;/);
    });

    test('without an absolute lifetime the cookie is a browser-session cookie', async () => {
      const res = await request(ctx.app).post('/login').send({ userId: 'cookie-life' });
      expect(String(res.headers['set-cookie'])).not.toMatch(/Expires=/i);
    });
  });

  // touchAfter 0 (refused with localCache): the cached target's absolute deadline is checked by 'a shorter absolute policy'.
  describeUncached(target, 'absolute lifetime of 3 s, every request refreshes', () => {
    const ctx = useApp(target, { idleTimeout: 3, absoluteTimeout: 3, touchAfter: 0 });

    test('activity cannot extend a session past its absolute lifetime', async () => {
      const login = await request(ctx.app).post('/login').send({ userId: 'abs-user' });
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      expect(String(login.headers['set-cookie'])).toMatch(/Expires=/);
      const deadline = Date.parse(login.body.absoluteExpiresAt);
      expect(deadline).toBe(Date.parse(login.body.createdAt) + 3000);
      await sleep(1000); // a refresh now would reach past the deadline if it were not capped
      const during = await request(ctx.app).get('/me').set('Cookie', cookie);
      const read = Date.now();
      const pttl = await recordPttl(ctx);
      expect(during.status).toBe(200);
      expect(Date.parse(during.body.expiresAt)).toBe(deadline);
      // The refresh gave Redis what was left to the deadline, not a full idle timeout.
      expect(pttl).toBeLessThanOrEqual(deadline - read + 5);
      await recordGone(ctx);
      expect(Date.now()).toBeGreaterThanOrEqual(deadline - 5);
      const after = await request(ctx.app).get('/me').set('Cookie', cookie);
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('SESSION_EXPIRED');
      expect(await keysWithPrefix(ctx.redis, ctx.prefix)).toEqual([]);
    });
  });

  describe('a shorter absolute policy', () => {
    const ctx = useApp(target, { idleTimeout: 60, absoluteTimeout: 3600 });

    test('applies at once to sessions created under a longer one', async () => {
      const cookie = await signIn(ctx.app, 'policy-user');
      const stricter = buildOn(target, ctx.client, { keyPrefix: ctx.prefix, idleTimeout: 2, absoluteTimeout: 2 }).app;
      const now = await request(stricter).get('/me').set('Cookie', cookie);
      expect(now.status).toBe(200);
      const deadline = Date.parse(now.body.absoluteExpiresAt);
      expect(deadline).toBe(Date.parse(now.body.createdAt) + 2000);
      // Waits on the deadline the app announced, not on a guess.
      await sleep(Math.max(0, deadline - Date.now() + 100));
      const later = await request(stricter).get('/me').set('Cookie', cookie);
      expect(later.status).toBe(401);
      expect(later.body.error.code).toBe('SESSION_EXPIRED');
    });
  });

  // touchAfter 0 (refused with localCache): the refresh under touchAfter > 0 is timed in the first block and in touch-after.test.ts.
  describeUncached(target, 'TTLs in Redis (touchAfter 0: every request refreshes)', () => {
    const ctx = useApp(target, { idleTimeout: 100, touchAfter: 0 });

    async function ttls(): Promise<{ session: number; index: number }> {
      const keys = await keysWithPrefix(ctx.redis, ctx.prefix);
      const session = keys.find(isSessionKey)!;
      const index = keys.find(isIndexKey)!;
      return { session: await ctx.redis.pttl(session), index: await ctx.redis.pttl(index) };
    }

    test('the session lives the idle timeout and the user index 1.5x as long', async () => {
      const cookie = await signIn(ctx.app, 'ttl-user');
      let { session, index } = await ttls();
      expect(session).toBeGreaterThan(99_000);
      expect(session).toBeLessThanOrEqual(100_000);
      expect(index).toBeGreaterThan(149_000);
      expect(index).toBeLessThanOrEqual(150_000);
      await ctx.redis.pexpire((await keysWithPrefix(ctx.redis, ctx.prefix)).find(isIndexKey)!, 5000);
      await request(ctx.app).get('/me').set('Cookie', cookie);
      ({ session, index } = await ttls());
      expect(index).toBeGreaterThan(149_000);
      expect(session).toBeGreaterThan(99_000);
    });
  });

  describe('indexTtlFactor option', () => {
    const ctx = useApp(target, { idleTimeout: 10, indexTtlFactor: 3 });

    test('sets the user index TTL as a multiple of the idle timeout', async () => {
      await signIn(ctx.app, 'factor-user');
      const index = (await keysWithPrefix(ctx.redis, ctx.prefix)).find(isIndexKey)!;
      const ttl = await ctx.redis.pttl(index);
      expect(ttl).toBeGreaterThan(29_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
    });
  });
});
