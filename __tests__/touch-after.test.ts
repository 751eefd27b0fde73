/**
 * touchAfter: requests between refreshes only read, yet see every end of a session exactly as a
 * refreshing request does; a refresh is due once touchAfter has passed since the last one.
 */
import request from 'supertest';
import { buildOn, signIn, sleep, untilRedisTime, useApp, userKeys, type SuiteContext } from './helpers/suite';
import { BEHAVIOUR_TARGETS } from './helpers/targets';

describe.each(BEHAVIOUR_TARGETS)('touchAfter ($name)', (target) => {
  // Two managers on one key prefix: `ctx` refreshes after 30 s, so its requests after a sign-in are
  // within touchAfter however slow the machine is; `due` refreshes after 0.2 s, reached by Redis's clock.
  const ctx = useApp(target, { idleTimeout: 60, absoluteTimeout: false, touchAfter: 30 });
  const due = {} as { app: SuiteContext['app'] };
  beforeAll(() => {
    due.app = buildOn(target, ctx.client, { keyPrefix: ctx.prefix, idleTimeout: 60, absoluteTimeout: false, touchAfter: 0.2 }).app;
  });
  const short = useApp(target, { idleTimeout: 0.6, absoluteTimeout: 0.6, touchAfter: 0.2 });

  async function sessionPttl(userId: string): Promise<number> {
    const keys = userKeys(ctx.prefix, userId);
    const hashes = Object.entries(await ctx.redis.hgetall(keys.index)).filter(([, mark]) => mark === '').map(([hash]) => hash);
    expect(hashes).toHaveLength(1);
    return ctx.redis.pttl(keys.session(hashes[0]));
  }

  test('requests within touchAfter of the last refresh do not extend the idle timeout; the first one after does', async () => {
    const cookie = await signIn(ctx.app, 'toucher');
    await ctx.redis.pexpire((await ctx.redis.hkeys(userKeys(ctx.prefix, 'toucher').index)).map((h) => userKeys(ctx.prefix, 'toucher').session(h))[0], 50_000);
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.status).toBe(200);
    expect(await sessionPttl('toucher')).toBeLessThanOrEqual(50_000);
    // The last activity Redis recorded is still the sign-in, and the idle expiry counts from it.
    expect(me.body.lastActiveAt).toBe(me.body.createdAt);
    expect(Date.parse(me.body.idleExpiresAt)).toBe(Date.parse(me.body.createdAt) + 60_000);

    await untilRedisTime(ctx.redis, Date.parse(me.body.lastActiveAt) + 200);
    const refreshed = await request(due.app).get('/me').set('Cookie', cookie);
    expect(refreshed.status).toBe(200);
    expect(Date.parse(refreshed.body.lastActiveAt)).toBeGreaterThan(Date.parse(me.body.lastActiveAt));
    expect(Date.parse(refreshed.body.idleExpiresAt)).toBe(Date.parse(refreshed.body.lastActiveAt) + 60_000);
    // The refresh goes out without the request waiting for it: the idle TTL is back to 60 s shortly after.
    const deadline = Date.now() + 2000;
    while ((await sessionPttl('toucher')) < 55_000 && Date.now() < deadline) await sleep(20);
    const left = await sessionPttl('toucher');
    expect(left).toBeGreaterThan(55_000);
    expect(left).toBeLessThanOrEqual(60_000);
  });

  test('a reading request still sees displacement, revocation and sign-out at once', async () => {
    const first = await signIn(ctx.app, 'reader-d');
    await signIn(ctx.app, 'reader-d');
    expect((await request(ctx.app).get('/me').set('Cookie', first)).body.error.code).toBe('SESSION_DISPLACED');

    const revoked = await signIn(ctx.app, 'reader-r');
    expect((await request(ctx.app).get('/me').set('Cookie', revoked)).status).toBe(200);
    expect(await ctx.sessions.revokeUser('reader-r')).toBe(1);
    expect((await request(ctx.app).get('/me').set('Cookie', revoked)).body.error.code).toBe('SESSION_REVOKED');

    const out = await signIn(ctx.app, 'reader-l');
    expect((await request(ctx.app).post('/logout').set('Cookie', out)).status).toBe(204);
    expect((await request(ctx.app).get('/me').set('Cookie', out)).body.error.code).toBe('SESSION_EXPIRED');
  });

  test('a reading request sees the absolute deadline exactly, and the idle expiry when the record is gone', async () => {
    const cookie = await signIn(short.app, 'reader-abs');
    const me = await request(short.app).get('/me').set('Cookie', cookie);
    const deadline = Date.parse(me.body.absoluteExpiresAt);
    // Keep the record in Redis past the deadline: only the package's own check can refuse it.
    const keys = userKeys(short.prefix, 'reader-abs');
    const [hash] = await short.redis.hkeys(keys.index);
    await short.redis.persist(keys.session(hash));
    await untilRedisTime(short.redis, deadline);
    const after = await request(short.app).get('/me').set('Cookie', cookie);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_EXPIRED');

    const idle = await signIn(ctx.app, 'reader-idle');
    const idleKeys = userKeys(ctx.prefix, 'reader-idle');
    const [idleHash] = await ctx.redis.hkeys(idleKeys.index);
    await ctx.redis.del(idleKeys.session(idleHash)); // what the idle TTL does
    expect((await request(ctx.app).get('/me').set('Cookie', idle)).body.error.code).toBe('SESSION_EXPIRED');
  });
});
