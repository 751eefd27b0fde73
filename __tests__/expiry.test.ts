/**
 * The TTL policy: sliding idle expiry refreshed by every authenticated request, an absolute
 * lifetime that activity cannot extend, and a user index living 1.5x the idle TTL.
 */
import request from 'supertest';
import { buildApp } from './helpers/app';
import { isIndexKey, isSessionKey, keysWithPrefix, signIn, sleep, useApp } from './helpers/suite';
import { TARGETS } from './helpers/targets';

describe.each(TARGETS)('expiry ($name)', (target) => {
  describe('idle timeout of 1 s, no absolute lifetime', () => {
    const ctx = useApp(target, { idleTimeout: 1, absoluteTimeout: false });

    test('each request slides the idle expiry; an idle session ends with SESSION_EXPIRED', async () => {
      const cookie = await signIn(ctx.app, 'idle-user');
      for (let i = 0; i < 3; i++) {
        await sleep(600);
        const res = await request(ctx.app).get('/me').set('Cookie', cookie);
        expect(res.status).toBe(200);
        expect(res.body.absoluteExpiresAt).toBeNull();
      }
      await sleep(1300);
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

  describe('absolute lifetime of 1.5 s', () => {
    const ctx = useApp(target, { idleTimeout: 1.5, absoluteTimeout: 1.5 });

    test('activity cannot extend a session past its absolute lifetime', async () => {
      const login = await request(ctx.app).post('/login').send({ userId: 'abs-user' });
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      expect(String(login.headers['set-cookie'])).toMatch(/Expires=/);
      await sleep(700);
      const during = await request(ctx.app).get('/me').set('Cookie', cookie);
      expect(during.status).toBe(200);
      expect(Date.parse(during.body.expiresAt)).toBe(Date.parse(during.body.absoluteExpiresAt));
      await sleep(1000);
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
      const stricter = buildApp(ctx.client, { keyPrefix: ctx.prefix, idleTimeout: 0.5, absoluteTimeout: 0.5 }).app;
      const now = await request(stricter).get('/me').set('Cookie', cookie);
      expect(now.status).toBe(200);
      expect(Date.parse(now.body.absoluteExpiresAt)).toBe(Date.parse(now.body.createdAt) + 500);
      await sleep(700);
      const later = await request(stricter).get('/me').set('Cookie', cookie);
      expect(later.status).toBe(401);
      expect(later.body.error.code).toBe('SESSION_EXPIRED');
    });
  });

  describe('TTLs in Redis (touchAfter 0: every request refreshes)', () => {
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
