/**
 * The sign-in policy: `maxSessions` and `onLimit`. Under 100 parallel sign-ins of one user,
 * `displace-oldest` never leaves more than `maxSessions` live sessions and `reject-new` lets exactly
 * `maxSessions` through (409 `SESSION_LIMIT_REACHED` for the rest) while the existing ones keep working.
 */
import type { Cluster, Redis } from 'ioredis';
import request from 'supertest';
import { isSessionKey, keysWithPrefix, redisTime, sessionCookieOf, signIn, untilRedisTime, useApp, userKeys } from '../helpers/suite';
import { BEHAVIOUR_TARGETS } from '../helpers/targets';

const PARALLEL = 100;

/** Sends `n` sign-ins of `userId` at once; every response. */
function signInsAtOnce(app: Parameters<typeof request>[0], userId: string, n: number): Promise<request.Response[]> {
  return Promise.all(Array.from({ length: n }, () => request(app).post('/login').send({ userId })));
}

/** How many entries of the user's index say "live", and how many session records exist. */
async function storedLive(redis: Redis | Cluster, prefix: string, userId: string): Promise<{ marks: number; records: number }> {
  const keys = userKeys(prefix, userId);
  const index = await redis.hgetall(keys.index);
  const records = (await keysWithPrefix(redis, keys.index.slice(0, keys.index.lastIndexOf('}') + 1))).filter(isSessionKey);
  return { marks: Object.values(index).filter((mark) => mark === '').length, records: records.length };
}

async function statusOf(app: Parameters<typeof request>[0], cookie: string): Promise<number> {
  return (await request(app).get('/me').set('Cookie', cookie)).status;
}

describe.each(BEHAVIOUR_TARGETS)('the session limit ($name)', (target) => {
  describe("maxSessions 3, onLimit 'displace-oldest'", () => {
    const ctx = useApp(target, { maxSessions: 3 });

    test(`${PARALLEL} parallel sign-ins all succeed and leave exactly 3 live sessions`, async () => {
      const responses = await signInsAtOnce(ctx.app, 'racer', PARALLEL);
      expect(responses.map((res) => res.status)).toEqual(Array(PARALLEL).fill(200));
      const cookies = responses.map((res) => sessionCookieOf(res.headers['set-cookie']));
      const statuses = await Promise.all(cookies.map((cookie) => statusOf(ctx.app, cookie)));
      expect(statuses.filter((status) => status === 200)).toHaveLength(3);
      expect(statuses.filter((status) => status === 401)).toHaveLength(PARALLEL - 3);
      expect(await ctx.sessions.listSessions('racer')).toHaveLength(3);
      expect(await storedLive(ctx.redis, ctx.prefix, 'racer')).toEqual({ marks: 3, records: 3 });
    });

    test('the displaced ones are told SESSION_DISPLACED', async () => {
      const cookies = [];
      for (let i = 0; i < 4; i++) cookies.push(await signIn(ctx.app, 'fourth'));
      const first = await request(ctx.app).get('/me').set('Cookie', cookies[0]);
      expect(first.status).toBe(401);
      expect(first.body.error.code).toBe('SESSION_DISPLACED');
      for (const cookie of cookies.slice(1)) expect(await statusOf(ctx.app, cookie)).toBe(200);
    });

    test('the least recently created session is the one displaced, however recently it was used', async () => {
      // Each sign-in in a later millisecond of Redis's clock, so creation times never tie.
      const signInLater = async (): Promise<string> => {
        await untilRedisTime(ctx.redis, await redisTime(ctx.redis));
        return signIn(ctx.app, 'order');
      };
      const oldest = await signInLater();
      const middle = await signInLater();
      const newest = await signInLater();
      // The oldest is the most recently active one now: the policy still ends it first.
      expect(await statusOf(ctx.app, oldest)).toBe(200);
      const [listedOldest] = await ctx.sessions.listSessions('order');
      const fourth = await signInLater();
      expect(await statusOf(ctx.app, oldest)).toBe(401);
      for (const cookie of [middle, newest, fourth]) expect(await statusOf(ctx.app, cookie)).toBe(200);
      const left = await ctx.sessions.listSessions('order');
      expect(left.map((s) => s.sessionId)).not.toContain(listedOldest.sessionId);
      const fifth = await signInLater();
      expect(await statusOf(ctx.app, middle)).toBe(401);
      for (const cookie of [newest, fourth, fifth]) expect(await statusOf(ctx.app, cookie)).toBe(200);
    });

    test('a sign-in from a browser that already holds a session of the user replaces it without displacing another', async () => {
      const a = await signIn(ctx.app, 'same-browser');
      const b = await signIn(ctx.app, 'same-browser');
      const c = await signIn(ctx.app, 'same-browser');
      const again = await request(ctx.app).post('/login').set('Cookie', c).send({ userId: 'same-browser' });
      expect(again.status).toBe(200);
      const replaced = await request(ctx.app).get('/me').set('Cookie', c);
      expect(replaced.body.error.code).toBe('SESSION_EXPIRED');
      for (const cookie of [a, b, sessionCookieOf(again.headers['set-cookie'])]) expect(await statusOf(ctx.app, cookie)).toBe(200);
    });
  });

  describe("maxSessions 3, onLimit 'reject-new'", () => {
    const ctx = useApp(target, { maxSessions: 3, onLimit: 'reject-new' });

    test(`${PARALLEL} parallel sign-ins: exactly 3 succeed, the rest get 409 SESSION_LIMIT_REACHED without a cookie`, async () => {
      const responses = await signInsAtOnce(ctx.app, 'crowd', PARALLEL);
      const ok = responses.filter((res) => res.status === 200);
      const refused = responses.filter((res) => res.status !== 200);
      expect(ok).toHaveLength(3);
      expect(refused).toHaveLength(PARALLEL - 3);
      for (const res of refused) {
        expect(res.status).toBe(409);
        expect(res.body.error.code).toBe('SESSION_LIMIT_REACHED');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      const cookies = ok.map((res) => sessionCookieOf(res.headers['set-cookie']));
      for (const cookie of cookies) expect(await statusOf(ctx.app, cookie)).toBe(200);
      expect(await storedLive(ctx.redis, ctx.prefix, 'crowd')).toEqual({ marks: 3, records: 3 });
    });

    test('a refused sign-in as another user on a browser signed in as someone signs that browser out, cookie cleared', async () => {
      const mine = await signIn(ctx.app, 'switcher');
      for (let i = 0; i < 3; i++) await signIn(ctx.app, 'crowded');
      const refused = await request(ctx.app).post('/login').set('Cookie', mine).send({ userId: 'crowded' });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('SESSION_LIMIT_REACHED');
      // The other user's session ended before the sign-in was tried: signed out, never holding a session that lives on unheld.
      expect(String(refused.headers['set-cookie'])).toMatch(/ess_sid=;/);
      expect(await ctx.sessions.listSessions('switcher')).toEqual([]);
      expect(await ctx.sessions.listSessions('crowded')).toHaveLength(3);
    });

    test('the sessions that exist keep working after a refused sign-in, and a sign-out makes room', async () => {
      const cookies = [await signIn(ctx.app, 'full'), await signIn(ctx.app, 'full'), await signIn(ctx.app, 'full')];
      const refused = await request(ctx.app).post('/login').send({ userId: 'full' });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toEqual({ code: 'SESSION_LIMIT_REACHED', message: expect.stringMatching(/already signed in elsewhere/) });
      for (const cookie of cookies) expect(await statusOf(ctx.app, cookie)).toBe(200);
      expect((await request(ctx.app).post('/logout').set('Cookie', cookies[0])).status).toBe(204);
      expect((await request(ctx.app).post('/login').send({ userId: 'full' })).status).toBe(200);
      expect((await request(ctx.app).post('/login').send({ userId: 'full' })).status).toBe(409);
    });

    test('a revoked session makes room too', async () => {
      await signIn(ctx.app, 'room');
      await signIn(ctx.app, 'room');
      await signIn(ctx.app, 'room');
      const [oldest] = await ctx.sessions.listSessions('room');
      expect(await ctx.sessions.revokeSession('room', oldest.sessionId)).toBe(true);
      expect((await request(ctx.app).post('/login').send({ userId: 'room' })).status).toBe(200);
    });
  });

  describe('maxSessions as a function of the user id: admins 5, everyone else 1', () => {
    const ctx = useApp(target, { maxSessions: (userId) => (userId.startsWith('admin:') ? 5 : 1) });

    test('an admin keeps 5 sessions, a user keeps 1', async () => {
      const admin = await signInsAtOnce(ctx.app, 'admin:ada', 8);
      const user = await signInsAtOnce(ctx.app, 'user:bo', 8);
      expect([...admin, ...user].every((res) => res.status === 200)).toBe(true);
      expect(await ctx.sessions.listSessions('admin:ada')).toHaveLength(5);
      expect(await ctx.sessions.listSessions('user:bo')).toHaveLength(1);
      const live = await Promise.all(admin.map((res) => statusOf(ctx.app, sessionCookieOf(res.headers['set-cookie']))));
      expect(live.filter((status) => status === 200)).toHaveLength(5);
    });
  });

  describe("a sign-in that cannot hand out its cookie, onLimit 'reject-new'", () => {
    const ctx = useApp(target, { onLimit: 'reject-new' }, (app, sessions) => {
      app.post('/login-too-late', (req, res) => {
        const signingIn = sessions.login(req, res, 'too-late');
        res.json({ answered: 'before the sign-in finished' });
        signingIn.then(
          () => app.emit('signed-in', null),
          (err: unknown) => app.emit('signed-in', err),
        );
      });
    });

    test('rejects with HEADERS_SENT and leaves no session counting against the limit', async () => {
      const outcome = new Promise((resolve) => ctx.app.once('signed-in', resolve));
      await request(ctx.app).post('/login-too-late');
      expect(await outcome).toMatchObject({ code: 'HEADERS_SENT' });
      expect(await ctx.sessions.listSessions('too-late')).toEqual([]);
      expect((await request(ctx.app).post('/login').send({ userId: 'too-late' })).status).toBe(200);
    });
  });

  describe('maxSessions as a function that returns an unusable value', () => {
    const ctx = useApp(target, { maxSessions: () => 0 });

    test('login rejects with INVALID_OPTIONS and sets no cookie', async () => {
      const res = await request(ctx.app).post('/login').send({ userId: 'nobody' });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('INVALID_OPTIONS');
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });
});
