/**
 * Devices: `listSessions` (oldest first, the exact fields, Dates and nulls), what `login()` records
 * about the client, revocation of one session, of all, or of all but one (`SESSION_REVOKED`, told
 * apart from `SESSION_EXPIRED` and `SESSION_DISPLACED`), and `scanSessions` over every master.
 */
import { Cluster } from 'ioredis';
import request from 'supertest';
import { waitUntil } from '../helpers/redis-servers';
import { buildOn, rawValueOf, sessionCookieOf, useApp, userKeys } from '../helpers/suite';
import { BEHAVIOUR_TARGETS } from '../helpers/targets';
import { hashToken } from '../../lib/token';

type App = Parameters<typeof request>[0];
const CLEARED = /ess_sid=;.*Expires=Thu, 01 Jan 1970/;

async function signInAs(app: App, userId: string, userAgent?: string): Promise<{ cookie: string; sessionId: string }> {
  const req = request(app).post('/login');
  if (userAgent !== undefined) req.set('User-Agent', userAgent);
  const res = await req.send({ userId });
  expect(res.status).toBe(200);
  return { cookie: sessionCookieOf(res.headers['set-cookie']), sessionId: res.body.sessionId };
}

async function me(app: App, cookie: string): Promise<request.Response> {
  return request(app).get('/me').set('Cookie', cookie);
}

describe.each(BEHAVIOUR_TARGETS)('devices ($name)', (target) => {
  describe('listing', () => {
    const ctx = useApp(target, { maxSessions: 5 });

    test('listSessions shows the live sessions oldest first, with exactly the documented fields', async () => {
      const before = Date.now();
      const first = await signInAs(ctx.app, 'lister', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0');
      const second = await signInAs(ctx.app, 'lister', 'curl/8.5.0');
      await me(ctx.app, first.cookie);
      const listed = await ctx.sessions.listSessions('lister');
      expect(listed.map((s) => s.sessionId)).toEqual([first.sessionId, second.sessionId]);
      for (const session of listed) {
        expect(Object.keys(session).sort()).toEqual(['createdAt', 'expiresAt', 'ip', 'lastActiveAt', 'sessionId', 'userAgent']);
        expect(session.createdAt).toBeInstanceOf(Date);
        expect(session.lastActiveAt).toBeInstanceOf(Date);
        expect(session.expiresAt).toBeInstanceOf(Date);
        expect(session.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(session.lastActiveAt.getTime()).toBeGreaterThanOrEqual(session.createdAt.getTime());
        expect(session.expiresAt.getTime()).toBeGreaterThan(Date.now() + 1790_000);
        expect(session.ip).toMatch(/127\.0\.0\.1|::1/);
      }
      expect(listed[0].userAgent).toBe('Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0');
      expect(listed[1].userAgent).toBe('curl/8.5.0');
      expect(listed[0].createdAt.getTime()).toBeLessThanOrEqual(listed[1].createdAt.getTime());
      expect(listed[0].lastActiveAt.getTime()).toBeGreaterThan(listed[0].createdAt.getTime() - 1);
    });

    test('the listing never holds a token or its hash', async () => {
      const { cookie } = await signInAs(ctx.app, 'no-secrets', 'ua');
      const token = rawValueOf(cookie).split('.')[1];
      const text = JSON.stringify(await ctx.sessions.listSessions('no-secrets'));
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashToken(token));
    });

    test('the User-Agent is cut to 256 characters; a request without one lists null', async () => {
      await signInAs(ctx.app, 'long-ua', 'x'.repeat(1000));
      await request(ctx.app).post('/login').unset('User-Agent').send({ userId: 'long-ua' });
      const [long, none] = await ctx.sessions.listSessions('long-ua');
      expect(long.userAgent).toBe('x'.repeat(256));
      expect(none.userAgent).toBeNull();
    });

    test('a user without sessions lists nothing; a bad user id is INVALID_ARGUMENT', async () => {
      await expect(ctx.sessions.listSessions('never-signed-in')).resolves.toEqual([]);
      await expect(ctx.sessions.listSessions('' as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(ctx.sessions.listSessions(42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    test('ended sessions are not listed: displaced, revoked, signed out', async () => {
      const sessions = [];
      for (let i = 0; i < 6; i++) sessions.push(await signInAs(ctx.app, 'ending'));
      // The 6th sign-in displaced the first.
      await ctx.sessions.revokeSession('ending', sessions[1].sessionId);
      await request(ctx.app).post('/logout').set('Cookie', sessions[2].cookie);
      const listed = await ctx.sessions.listSessions('ending');
      expect(listed.map((s) => s.sessionId)).toEqual(sessions.slice(3).map((s) => s.sessionId));
    });
  });

  describe('recordClient: false', () => {
    const ctx = useApp(target, { recordClient: false });

    test('stores neither the User-Agent nor the IP', async () => {
      const { cookie } = await signInAs(ctx.app, 'private', 'Secret-Browser/1.0');
      const [listed] = await ctx.sessions.listSessions('private');
      expect(listed.userAgent).toBeNull();
      expect(listed.ip).toBeNull();
      const token = rawValueOf(cookie).split('.')[1];
      const record = await ctx.redis.hgetall(userKeys(ctx.prefix, 'private').session(hashToken(token)));
      expect(Object.keys(record).sort()).toEqual(['a', 'c', 'u']);
      expect(JSON.stringify(record)).not.toMatch(/Secret-Browser|127\.0\.0\.1/);
    });
  });

  describe('listing after expiries (idle timeout 1 s)', () => {
    const ctx = useApp(target, { idleTimeout: 1, absoluteTimeout: false, maxSessions: 5 });

    test('shows only the sessions that are still live', async () => {
      const idle = await signInAs(ctx.app, 'expiring');
      const alsoIdle = await signInAs(ctx.app, 'expiring');
      const active = await signInAs(ctx.app, 'expiring');
      // Waits for Redis to expire the two idle records while the active one is used at every poll: each
      // request gives it a full idle timeout again, so it outlives them however slow the machine is.
      const keys = userKeys(ctx.prefix, 'expiring');
      const records = [idle, alsoIdle].map((s) => keys.session(hashToken(rawValueOf(s.cookie).split('.')[1])));
      await waitUntil('the idle sessions to expire', async () => {
        expect((await me(ctx.app, active.cookie)).status).toBe(200);
        return (await ctx.redis.exists(...records)) === 0;
      }, 10_000, 20);
      const listed = await ctx.sessions.listSessions('expiring');
      expect(listed.map((s) => s.sessionId)).toEqual([active.sessionId]);
      expect((await me(ctx.app, idle.cookie)).body.error.code).toBe('SESSION_EXPIRED');
      expect((await me(ctx.app, alsoIdle.cookie)).body.error.code).toBe('SESSION_EXPIRED');
      expect((await me(ctx.app, active.cookie)).status).toBe(200);
    });
  });

  describe('revocation', () => {
    const ctx = useApp(target, { maxSessions: 5 });

    test('revokeSession ends that session only: true if it was live, false otherwise', async () => {
      const a = await signInAs(ctx.app, 'rev-one');
      const b = await signInAs(ctx.app, 'rev-one');
      expect(await ctx.sessions.revokeSession('rev-one', a.sessionId)).toBe(true);
      expect(await ctx.sessions.revokeSession('rev-one', a.sessionId)).toBe(false);
      expect(await ctx.sessions.revokeSession('rev-one', '00000000-0000-4000-8000-000000000000')).toBe(false);
      // Another user's session id is not this user's session.
      expect(await ctx.sessions.revokeSession('someone-else', b.sessionId)).toBe(false);
      expect((await me(ctx.app, b.cookie)).status).toBe(200);
    });

    test('a revoked session gets 401 SESSION_REVOKED with its cookie cleared, then stays out', async () => {
      const a = await signInAs(ctx.app, 'rev-code');
      await ctx.sessions.revokeSession('rev-code', a.sessionId);
      const res = await me(ctx.app, a.cookie);
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({ code: 'SESSION_REVOKED', message: 'This session was signed out from another device.' });
      expect(String(res.headers['set-cookie'])).toMatch(CLEARED);
      const publicView = await request(ctx.app).get('/public').set('Cookie', a.cookie);
      expect(publicView.body).toEqual({ signedIn: false, code: 'SESSION_REVOKED' });
      const save = await request(ctx.app).post('/data').set('Cookie', a.cookie).send({ theme: 'back' });
      expect(save.body.error.code).toBe('SESSION_REVOKED');
    });

    test('SESSION_REVOKED, SESSION_DISPLACED and SESSION_EXPIRED are told apart', async () => {
      const limited = buildOn(target, ctx.redis, { keyPrefix: ctx.prefix }).app; // one session per user
      const a = await signInAs(ctx.app, 'three-ways');
      const b = await signInAs(ctx.app, 'three-ways');
      await ctx.sessions.revokeSession('three-ways', a.sessionId);
      await request(ctx.app).post('/logout').set('Cookie', b.cookie);
      expect((await me(ctx.app, a.cookie)).body.error.code).toBe('SESSION_REVOKED');
      expect((await me(ctx.app, b.cookie)).body.error.code).toBe('SESSION_EXPIRED');
      const c = await signInAs(limited, 'three-ways-1');
      await signInAs(limited, 'three-ways-1');
      expect((await me(limited, c.cookie)).body.error.code).toBe('SESSION_DISPLACED');
    });

    test('revokeUser ends every session and resolves to how many it ended', async () => {
      const all = [await signInAs(ctx.app, 'rev-all'), await signInAs(ctx.app, 'rev-all'), await signInAs(ctx.app, 'rev-all')];
      expect(await ctx.sessions.revokeUser('rev-all')).toBe(3);
      expect(await ctx.sessions.revokeUser('rev-all')).toBe(0);
      for (const s of all) expect((await me(ctx.app, s.cookie)).body.error.code).toBe('SESSION_REVOKED');
      expect(await ctx.sessions.listSessions('rev-all')).toEqual([]);
      expect(await ctx.sessions.revokeUser('never-seen')).toBe(0);
    });

    test('revokeUser with except keeps exactly that one session', async () => {
      const all = [];
      for (let i = 0; i < 5; i++) all.push(await signInAs(ctx.app, 'rev-others'));
      const kept = all[2];
      expect(await ctx.sessions.revokeUser('rev-others', { except: kept.sessionId })).toBe(4);
      expect((await ctx.sessions.listSessions('rev-others')).map((s) => s.sessionId)).toEqual([kept.sessionId]);
      for (const s of all) {
        const res = await me(ctx.app, s.cookie);
        if (s === kept) expect(res.status).toBe(200);
        else expect(res.body.error.code).toBe('SESSION_REVOKED');
      }
      // except naming no live session ends them all.
      expect(await ctx.sessions.revokeUser('rev-others', { except: '00000000-0000-4000-8000-000000000000' })).toBe(1);
    });

    test('bad arguments are INVALID_ARGUMENT, never a revocation', async () => {
      const a = await signInAs(ctx.app, 'rev-bad');
      await expect(ctx.sessions.revokeSession('rev-bad', 'not-a-uuid')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', status: 400 });
      await expect(ctx.sessions.revokeUser('rev-bad', { except: 'nope' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(ctx.sessions.revokeUser('rev-bad', { exept: a.sessionId } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(ctx.sessions.revokeUser('' as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((await me(ctx.app, a.cookie)).status).toBe(200);
    });

    test.each([
      ['the app\'s own manager', true],
      ['another manager of the process', false],
    ])('revoke-all while requests are in flight, through %s: no request is answered as signed in after the revoke resolved', async (_name, own) => {
      const cookies = [];
      for (let i = 0; i < 5; i++) cookies.push((await signInAs(ctx.app, 'in-flight')).cookie);
      let revoked = false;
      let answeredSignedInAfterRevoke = 0;
      let answeredSignedIn = 0;
      const { app, sessions } = buildOn(target, ctx.redis, { keyPrefix: ctx.prefix, maxSessions: 5 }, (routes, appSessions) => {
        routes.get('/probe', appSessions.requireSession(), (_req, res) => {
          answeredSignedIn++;
          if (revoked) answeredSignedInAfterRevoke++;
          res.json({ ok: true });
        });
      });
      // Each hammer keeps requesting until it has sent two requests after the revoke resolved; the revoke
      // waits for requests answered as signed in: counted, never timed, so a slow machine only takes longer.
      const hammer = async (cookie: string): Promise<string[]> => {
        const outcomes: string[] = [];
        for (let sentAfterRevoke = 0; sentAfterRevoke < 2;) {
          if (revoked) sentAfterRevoke++;
          const res = await request(app).get('/probe').set('Cookie', cookie);
          outcomes.push(res.status === 200 ? 'OK' : res.body.error.code);
        }
        return outcomes;
      };
      const load = Promise.all(cookies.flatMap((cookie) => [hammer(cookie), hammer(cookie)]));
      await waitUntil('requests answered as signed in', async () => answeredSignedIn >= 10, 10_000, 5);
      expect(await (own ? sessions : ctx.sessions).revokeUser('in-flight')).toBe(5);
      revoked = true;
      const outcomes = (await load).flat();
      expect(answeredSignedIn).toBeGreaterThan(0);
      expect(answeredSignedInAfterRevoke).toBe(0);
      expect(new Set(outcomes)).toEqual(new Set(['OK', 'SESSION_REVOKED']));
      for (const cookie of cookies) expect((await request(app).get('/probe').set('Cookie', cookie)).status).toBe(401);
    });

    test('a session that ended never comes back: saves, re-logins and revocations racing it', async () => {
      const victim = await signInAs(ctx.app, 'no-return');
      await signInAs(ctx.app, 'no-return');
      const race = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => request(ctx.app).post('/data').set('Cookie', victim.cookie).send({ visits: i })),
        ctx.sessions.revokeSession('no-return', victim.sessionId),
        // Three sign-ins: with the two sessions above that is exactly maxSessions, so none displaces the victim.
        ...Array.from({ length: 3 }, () => request(ctx.app).post('/login').send({ userId: 'no-return' })),
      ]);
      expect(race).toContain(true);
      const token = rawValueOf(victim.cookie).split('.')[1];
      const keys = userKeys(ctx.prefix, 'no-return');
      expect(await ctx.redis.exists(keys.session(hashToken(token)))).toBe(0);
      expect(await ctx.redis.hget(keys.index, hashToken(token))).toMatch(/^R\d+$/);
      for (let i = 0; i < 3; i++) expect((await me(ctx.app, victim.cookie)).status).toBe(401);
      expect((await ctx.sessions.listSessions('no-return')).map((s) => s.sessionId)).not.toContain(victim.sessionId);
      expect(await ctx.sessions.revokeSession('no-return', victim.sessionId)).toBe(false);
    });
  });

  describe('scanSessions', () => {
    const ctx = useApp(target, { maxSessions: 2 });

    test('yields every live session of every user under the prefix, with its user id', async () => {
      const expected = new Map<string, string>();
      for (let i = 0; i < 40; i++) {
        const userId = `scan-${i}`;
        const { sessionId } = await signInAs(ctx.app, userId, `agent-${i}`);
        expected.set(sessionId, userId);
      }
      const second = await signInAs(ctx.app, 'scan-0');
      expected.set(second.sessionId, 'scan-0');
      const gone = await signInAs(ctx.app, 'scan-gone');
      await ctx.sessions.revokeUser('scan-gone');
      const seen = new Map<string, string>();
      for await (const session of ctx.sessions.scanSessions()) {
        expect(Object.keys(session).sort()).toEqual(['createdAt', 'expiresAt', 'ip', 'lastActiveAt', 'sessionId', 'userAgent', 'userId']);
        expect(session.createdAt).toBeInstanceOf(Date);
        seen.set(session.sessionId, session.userId);
      }
      expect(seen).toEqual(expected);
      expect(seen.has(gone.sessionId)).toBe(false);
      if (target.deployment === 'cluster') {
        // The users are spread over the masters: a scan of one master would have missed some.
        const masters = (ctx.redis as Cluster).nodes('master');
        const perMaster = await Promise.all(masters.map(async (node) => (await node.keys(`${ctx.prefix}*`)).length));
        expect(perMaster.filter((n) => n > 0).length).toBe(masters.length);
      }
    });
  });
});
