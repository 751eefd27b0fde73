/**
 * A client that holds only the cookie `reauthenticate()` replaced is told to try again only while a request
 * could have been on its way during the rotation (ROTATION_GRACE_MS); after that it is told to sign in again
 * (SESSION_EXPIRED). The cookie is never cleared either way, so a browser that holds the newer cookie keeps it.
 * The rotation's age is moved by rewriting its time in Redis: a clock the test controls, no sleeping.
 */
import request from 'supertest';
import { ROTATION_GRACE_MS } from '../../lib/middleware';
import { keyNamer } from '../../lib/store/keys';
import { parseCookieValue } from '../../lib/token';
import { rawValueOf, sessionCookieOf, signIn, useApp } from '../helpers/suite';
import { CACHED_TARGETS, TARGETS } from '../helpers/targets';

const SCRIPTED = { ...TARGETS[0], name: 'single Redis, ioredis, touchAfter 0', options: { touchAfter: 0 } };

describe.each([TARGETS[0], TARGETS[2], SCRIPTED, ...CACHED_TARGETS])('a rotated cookie ($name)', (target) => {
  const ctx = useApp(target, {}, (app, sessions) => {
    app.post('/reauthenticate', (req, res, next) => {
      sessions.reauthenticate(req, res).then((session) => res.json(session), next);
    });
  });

  /** Moves the rotation of `cookie`'s token `ms` into the past, as Redis's clock sees it. */
  async function rotatedAgo(cookie: string, ms: number): Promise<void> {
    const ref = parseCookieValue(rawValueOf(cookie))!;
    const index = keyNamer(ctx.prefix)(ref.userTag).index;
    const [seconds, micros] = (await ctx.redis.time()) as [string, string] | [number, number];
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    expect(await ctx.redis.hget(index, ref.tokenHash)).toMatch(/^T\d+$/);
    await ctx.redis.hset(index, ref.tokenHash, `T${now - ms}`);
  }

  test('within the grace: SESSION_ROTATED, try again; after it: SESSION_EXPIRED, sign in again; never a cleared cookie', async () => {
    const oldCookie = await signIn(ctx.app, `grace-${target.name}`);
    const reauth = await request(ctx.app).post('/reauthenticate').set('Cookie', oldCookie);
    expect(reauth.status).toBe(200);
    const newCookie = sessionCookieOf(reauth.headers['set-cookie']);

    const during = await request(ctx.app).get('/me').set('Cookie', oldCookie);
    expect(during.status).toBe(401);
    expect(during.body.error.code).toBe('SESSION_ROTATED');
    expect(during.headers['set-cookie']).toBeUndefined();

    await rotatedAgo(oldCookie, ROTATION_GRACE_MS + 1000);
    for (let i = 0; i < 2; i++) {
      const after = await request(ctx.app).get('/me').set('Cookie', oldCookie);
      expect(after.status).toBe(401);
      expect(after.body.error).toEqual({ code: 'SESSION_EXPIRED', message: 'Your session has expired. Please sign in again.' });
      expect(after.headers['set-cookie']).toBeUndefined();
    }
    // The session itself lives on under the newer cookie.
    expect((await request(ctx.app).get('/me').set('Cookie', newCookie)).status).toBe(200);
  });
});
