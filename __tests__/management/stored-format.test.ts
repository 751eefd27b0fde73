/**
 * The stored format during a rolling deploy: sessions written by 0.1.0 (format 1: `<prefix>{tag}:s`,
 * a hash with u, i, c, a, and `<prefix>{tag}:u`, the current token's hash) next to this version
 * (format 2). The 0.1.0 layout is written directly, exactly as 0.1.0's LOGIN script wrote it.
 * What the README promises: a format-1 session is SESSION_EXPIRED here (never a 500, never another
 * user); a sign-in here deletes the format-1 keys; a format-1 sign-in written after a format-2 one
 * displaces the format-2 session, so the user never has two live sessions; and 0.1.0's own resolve
 * script answers a format-2 cookie "expired".
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { hashToken, userTagOf } from '../../lib/token';
import { isIndexKey, isSessionKey, keysWithPrefix, signCookieValue, signIn, useApp, userKeys } from '../helpers/suite';
import { CACHED_TARGETS, TARGETS } from '../helpers/targets';
import type { SuiteContext } from '../helpers/suite';

/** 0.1.0's RESOLVE script, verbatim (git show ab25eff:lib/scripts.ts), to act as a 0.1.0 process would. */
const FORMAT_1_RESOLVE = `
local current = redis.call('GET', KEYS[2])
if current ~= ARGV[1] then
  if current then return 3 end
  redis.call('DEL', KEYS[1])
  return 2
end
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return 2 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[2])
local indexTtl = tonumber(ARGV[3])
local absolute = tonumber(ARGV[4])
if absolute > 0 then
  local created = 0
  for i = 1, #fields, 2 do
    if fields[i] == 'c' then created = tonumber(fields[i + 1]) break end
  end
  local left = created + absolute - now
  if left <= 0 then
    redis.call('DEL', KEYS[1], KEYS[2])
    return 2
  end
  if left < ttl then ttl = left end
  if left < indexTtl then indexTtl = left end
end
redis.call('HSET', KEYS[1], 'a', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], indexTtl)
table.insert(fields, 1, string.format('%d', now))
return cjson.encode(fields)
`;

/** Signs `userId` in the way 0.1.0 did (its LOGIN script's writes) and returns the cookie 0.1.0 handed out. */
async function signInAsFormat1(ctx: SuiteContext, userId: string, data: Record<string, string> = {}): Promise<string> {
  const tag = userTagOf(userId);
  const token = randomBytes(32).toString('base64url');
  const now = Date.now();
  const fields = ['u', userId, 'i', randomBytes(16).toString('base64url'), 'c', String(now), 'a', String(now)];
  for (const [name, json] of Object.entries(data)) fields.push(`d:${name}`, json);
  const sessionKey = `${ctx.prefix}{${tag}}:s`;
  await ctx.redis.del(sessionKey);
  await ctx.redis.hset(sessionKey, ...fields);
  await ctx.redis.pexpire(sessionKey, 1_800_000);
  await ctx.redis.set(`${ctx.prefix}{${tag}}:u`, hashToken(token), 'PX', 2_700_000);
  return `ess_sid=${signCookieValue(`${tag}.${token}`)}`;
}

describe.each([...TARGETS, ...CACHED_TARGETS])('stored format 1 next to format 2 ($name)', (target) => {
  const ctx = useApp(target, { maxSessions: 2 });

  test('a format-1 session is SESSION_EXPIRED on this version: 401 with the cookie cleared, never a 500 or a user', async () => {
    const cookie = await signInAsFormat1(ctx, 'legacy-alice', { theme: '"dark"' });
    const res = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SESSION_EXPIRED');
    expect(String(res.headers['set-cookie'])).toMatch(/ess_sid=;/);
    const publicView = await request(ctx.app).get('/public').set('Cookie', cookie);
    expect(publicView.status).toBe(200);
    expect(publicView.body).toEqual({ signedIn: false, code: 'SESSION_EXPIRED' });
    const save = await request(ctx.app).post('/data').set('Cookie', cookie).send({ theme: 'light' });
    expect(save.status).toBe(401);
    expect(await ctx.sessions.listSessions('legacy-alice')).toEqual([]);
    const logout = await request(ctx.app).post('/logout').set('Cookie', cookie);
    expect(logout.status).toBe(204);
  });

  test('a sign-in on this version deletes the format-1 keys of the user', async () => {
    const legacy = await signInAsFormat1(ctx, 'legacy-bob');
    const keys = userKeys(ctx.prefix, 'legacy-bob');
    expect(await ctx.redis.exists(keys.legacySession, keys.legacyIndex)).toBe(2);
    const cookie = await signIn(ctx.app, 'legacy-bob');
    expect(await ctx.redis.exists(keys.legacySession, keys.legacyIndex)).toBe(0);
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).body.userId).toBe('legacy-bob');
    expect((await request(ctx.app).get('/me').set('Cookie', legacy)).status).toBe(401);
    const left = await keysWithPrefix(ctx.redis, `${ctx.prefix}{${userTagOf('legacy-bob')}}`);
    expect(left.filter((key) => !isIndexKey(key) && !isSessionKey(key))).toEqual([]);
  });

  test('a format-2 cookie that reaches a 0.1.0 process is expired there, never a session', async () => {
    const cookie = await signIn(ctx.app, 'legacy-erin');
    const token = decodeURIComponent(cookie.slice('ess_sid='.length)).slice(2).split('.')[1];
    const keys = userKeys(ctx.prefix, 'legacy-erin');
    const reply = await ctx.redis.eval(FORMAT_1_RESOLVE, 2, keys.legacySession, keys.legacyIndex, hashToken(token), '1800000', '2700000', '28800000');
    expect(reply).toBe(2);
    // The 0.1.0 process did not harm the format-2 session either.
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).body.userId).toBe('legacy-erin');
  });

  test('a format-1 sign-in written after a format-2 one displaces the format-2 sessions: never two live sessions', async () => {
    const first = await signIn(ctx.app, 'legacy-carol');
    const second = await signIn(ctx.app, 'legacy-carol');
    expect((await request(ctx.app).get('/me').set('Cookie', first)).status).toBe(200);
    // A 0.1.0 instance of the app signs the user in during the rolling deploy.
    const legacy = await signInAsFormat1(ctx, 'legacy-carol');
    for (const cookie of [first, second]) {
      const res = await request(ctx.app).get('/me').set('Cookie', cookie);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('SESSION_DISPLACED');
    }
    expect(await ctx.sessions.listSessions('legacy-carol')).toEqual([]);
    // This version does not serve the format-1 session either; the user signs in again here.
    expect((await request(ctx.app).get('/me').set('Cookie', legacy)).body.error.code).toBe('SESSION_EXPIRED');
    const again = await signIn(ctx.app, 'legacy-carol');
    expect((await request(ctx.app).get('/me').set('Cookie', again)).status).toBe(200);
  });

});
