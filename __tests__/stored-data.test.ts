/**
 * What Redis returns is checked before it becomes a session: a record without a user id, with an
 * ill-formed session id, or created in the future (which would disable the absolute timeout) is
 * SESSION_INVALID, its cookie is cleared and the record is deleted; never a 500, never a session.
 */
import request from 'supertest';
import { hashToken } from '../lib/token';
import { rawValueOf, signIn, sleep, useApp, userKeys } from './helpers/suite';
import { CACHED_TARGETS, isCached, TARGETS } from './helpers/targets';

const TAMPERING: [string, (fields: Record<string, string>) => Record<string, string>][] = [
  ['no user id', ({ u: _u, ...rest }) => rest],
  ['an empty user id', (fields) => ({ ...fields, u: '' })],
  ['an ill-formed session id', (fields) => ({ ...fields, i: 'not-a-session-id' })],
  ['a created time in the future', (fields) => ({ ...fields, c: String(Date.now() + 365 * 24 * 3600 * 1000) })],
  ['a created time that is not a number', (fields) => ({ ...fields, c: 'soon' })],
];

describe.each([...TARGETS.filter((t) => t.client === 'ioredis'), ...CACHED_TARGETS])('stored data that is not ours ($name)', (target) => {
  // localCache refuses touchAfter 0 (every request would refresh in Redis): the cached target runs 5 only.
  for (const touchAfter of isCached(target) ? [5] : [0, 5]) {
    describe(`touchAfter ${touchAfter}`, () => {
      const ctx = useApp(target, { touchAfter });

      test('a refresh a moment ahead of this process\'s estimate of Redis\'s clock is still a live session', async () => {
        // Another request (or process) may have just refreshed the record: its last-active time can be a few
        // milliseconds past what this process believes Redis's clock says. That is not tampering.
        const userId = `ahead-${touchAfter}`;
        const cookie = await signIn(ctx.app, userId);
        const key = userKeys(ctx.prefix, userId).session(hashToken(rawValueOf(cookie).split('.')[1]!));
        await ctx.redis.hset(key, 'a', String(Date.now() + 2000 - Number(await ctx.redis.hget(key, 'c')))); // 'a' is ms after 'c'
        for (let i = 0; i < 3; i++) expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(200);
      });

      test.each(TAMPERING)('a record with %s is SESSION_INVALID, cleared and deleted', async (what, tamper) => {
        const userId = `tampered-${touchAfter}-${what.replace(/\W+/g, '-')}`;
        const cookie = await signIn(ctx.app, userId);
        const keys = userKeys(ctx.prefix, userId);
        const key = keys.session(hashToken(rawValueOf(cookie).split('.')[1]!));
        const fields = await ctx.redis.hgetall(key);
        expect(fields.u).toBe(userId);
        await ctx.redis.del(key);
        await ctx.redis.hset(key, tamper(fields));
        await ctx.redis.pexpire(key, 60_000);

        const res = await request(ctx.app).get('/me').set('Cookie', cookie);
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('SESSION_INVALID');
        expect(String(res.headers['set-cookie'])).toMatch(/ess_sid=;/);
        // The record is ended in the background (the request does not wait for it).
        for (let i = 0; i < 100 && (await ctx.redis.exists(key)) === 1; i++) await sleep(10);
        expect(await ctx.redis.exists(key)).toBe(0);
        expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(401);
      });
    });
  }
});
