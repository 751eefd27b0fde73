/**
 * `userTagSecret`: the user tag in the cookie becomes an HMAC of the user id, so holding a cookie no
 * longer lets anyone confirm a guessed id. It stays stable per user (one hash slot, so Cluster works),
 * and setting or changing the secret ends the sessions issued under the old tag once.
 */
import { createHash, createHmac } from 'node:crypto';
import request from 'supertest';
import { createSessionManager, SessionError } from '../lib';
import { buildOn, keysWithPrefix, rawValueOf, signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS, TARGETS } from './helpers/targets';

const SECRET = 'user-tag-secret-for-tests-0123456789abcdef';
const OTHER_SECRET = 'another-user-tag-secret-for-tests-0123456789';

const tagOf = (cookie: string): string => rawValueOf(cookie).split('.')[0]!;
const unkeyedTag = (userId: string): string => createHash('sha256').update(userId).digest('base64url').slice(0, 16);
const keyedTag = (userId: string, secret: string): string => createHmac('sha256', secret).update(userId).digest('base64url').slice(0, 16);

test.each([
  ['a short string', 'x'.repeat(31)],
  ['a number', 1234567890],
  ['a Buffer', Buffer.alloc(32)],
  ['an empty string', ''],
])('userTagSecret as %s is INVALID_OPTIONS', (_what, userTagSecret) => {
  const redis = TARGETS[0]!.ioredis();
  try {
    expect(() => createSessionManager({ redis, userTagSecret: userTagSecret as string })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('`userTagSecret` must be a string of at least 32 characters') }),
    );
    expect(() => createSessionManager({ redis, userTagSecret: userTagSecret as string })).toThrow(SessionError);
  } finally {
    redis.disconnect();
  }
});

describe.each(BEHAVIOUR_TARGETS)('userTagSecret ($name)', (target) => {
  const ctx = useApp(target, { userTagSecret: SECRET });

  test('the tag is an HMAC of the user id: not the unkeyed SHA-256, and not confirmable without the secret', async () => {
    const userId = 'user-734521';
    const cookie = await signIn(ctx.app, userId);
    const tag = tagOf(cookie);
    expect(tag).toHaveLength(16);
    expect(tag).not.toBe(unkeyedTag(userId));
    expect(tag).not.toBe(keyedTag(userId, OTHER_SECRET));
    expect(tag).toBe(keyedTag(userId, SECRET));
    // Stable: the same user always gets the same tag, so its keys stay in one slot.
    expect(tagOf(await signIn(ctx.app, userId))).toBe(tag);
    const keys = await keysWithPrefix(ctx.redis, ctx.prefix);
    expect(keys.some((key) => key.startsWith(`${ctx.prefix}{${tag}}:`))).toBe(true);
    expect(keys.some((key) => key.includes(unkeyedTag(userId)))).toBe(false);
  });

  test('sessions work as before: resolve, displacement, revokeUser and logout', async () => {
    const first = await signIn(ctx.app, 'keyed-user', { theme: 'dark' });
    expect((await request(ctx.app).get('/me').set('Cookie', first)).body).toMatchObject({ userId: 'keyed-user', theme: 'dark' });
    const second = await signIn(ctx.app, 'keyed-user');
    expect((await request(ctx.app).get('/me').set('Cookie', first)).body.error.code).toBe('SESSION_DISPLACED');
    expect(await ctx.sessions.revokeUser('keyed-user')).toBeTruthy();
    expect((await request(ctx.app).get('/me').set('Cookie', second)).status).toBe(401);
    const third = await signIn(ctx.app, 'keyed-user');
    expect((await request(ctx.app).post('/logout').set('Cookie', third)).status).toBe(204);
    expect((await request(ctx.app).get('/me').set('Cookie', third)).status).toBe(401);
    expect(await keysWithPrefix(ctx.redis, ctx.prefix).then((keys) => keys.filter((key) => key.includes(unkeyedTag('keyed-user'))))).toEqual([]);
  });

  test('setting the secret ends sessions issued without it, once, and never leaves two live sessions', async () => {
    const plain = buildOn(target, ctx.redis, { keyPrefix: ctx.prefix }).app;
    const old = await signIn(plain, 'migrating-user');
    const before = await request(ctx.app).get('/me').set('Cookie', old);
    expect(before.status).toBe(401);
    expect(before.body.error.code).toBe('SESSION_INVALID');
    expect(String(before.headers['set-cookie'])).toMatch(/^ess_sid=;/);
    const fresh = await signIn(ctx.app, 'migrating-user');
    expect((await request(ctx.app).get('/me').set('Cookie', fresh)).status).toBe(200);
    expect((await request(ctx.app).get('/me').set('Cookie', old)).status).toBe(401);
  });

  test('changing the secret ends sessions issued under the old one', async () => {
    const rotated = buildOn(target, ctx.redis, { keyPrefix: ctx.prefix, userTagSecret: OTHER_SECRET }).app;
    const old = await signIn(ctx.app, 'rotating-user');
    expect((await request(rotated).get('/me').set('Cookie', old)).body.error.code).toBe('SESSION_INVALID');
    const fresh = await signIn(rotated, 'rotating-user');
    expect((await request(rotated).get('/me').set('Cookie', fresh)).body.userId).toBe('rotating-user');
  });
});
