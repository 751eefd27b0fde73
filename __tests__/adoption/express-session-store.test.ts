/**
 * The express-session Store in an app whose only change is the store (express-session, passport and
 * passport-local, real Redis): Passport sign-ins bind sessions under the limit policy, a second sign-in
 * displaces the first, parallel sign-ins leave exactly the limit, a request still on its way on an ended
 * session cannot bring it back by saving, revoke and logout, and the store contract (touch never
 * creates, all/length/clear over its own prefix, the TTL of a session with no user from its cookie).
 * On ioredis and node-redis on a single Redis, and on a Cluster.
 */
import type { Cluster, Redis } from 'ioredis';
import request from 'supertest';
import { pointerKey } from '../../lib/store/express-session';
import { hashToken } from '../../lib/token';
import { keysWithPrefix } from '../helpers/suite';
import { closeClient, TARGETS, uniquePrefix, type AppRedis } from '../helpers/targets';
import { buildStoreApp, call, cookieOf, logIn, me, PASSWORD, sidOf, type StoreApp } from './store-app';

const STORE_TARGETS = [TARGETS[0]!, TARGETS[2]!, TARGETS[1]!]; // ioredis single, node-redis single, ioredis Cluster

describe.each(STORE_TARGETS)('createSessionStore with express-session and passport-local ($name)', (target) => {
  let client: AppRedis;
  let redis: Redis | Cluster;
  const built: StoreApp[] = [];
  const prefixes: string[] = [];
  /** A new app with its own key prefix. */
  function build(options: Parameters<typeof buildStoreApp>[1] = {}, gate?: Parameters<typeof buildStoreApp>[2]): StoreApp & { prefix: string } {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const made = buildStoreApp(client, { keyPrefix: prefix, ...options }, gate);
    built.push(made);
    return { ...made, prefix };
  }
  beforeAll(() => {
    client = target.connect();
    redis = target.ioredis();
  });
  afterAll(async () => {
    await closeClient(client);
    await redis.quit();
  });

  test('a passport-local sign-in binds the session to the user; Redis holds only a hash of the session id', async () => {
    const { app, store, prefix } = build();
    const cookie = await logIn(app, 'ann');
    expect(await me(app, cookie)).toEqual({ user: 'ann', ended: null, note: null });
    await request(app).post('/note').set('Cookie', cookie).send({ note: 'kept' }).expect(200);
    expect((await me(app, cookie)).note).toBe('kept');
    const [listed, ...others] = await store.listSessions('ann');
    expect(others).toEqual([]);
    expect(listed!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const sid = sidOf(cookie);
    const keys = await keysWithPrefix(redis, prefix);
    expect(keys).toContain(pointerKey(prefix, hashToken(sid)));
    for (const key of keys) {
      expect(key).not.toContain(sid);
      const type = await redis.type(key);
      const values = type === 'hash' ? Object.entries(await redis.hgetall(key)).flat() : [await redis.get(key)];
      for (const value of values) expect(value).not.toContain(sid);
    }
  });

  test('a second sign-in displaces the first, which learns why (endedReason)', async () => {
    const { app, store } = build({ maxSessions: 1 });
    const displaced: unknown[] = [];
    store.on('displaced', (event) => displaced.push(event));
    const first = await logIn(app, 'bo');
    const second = await logIn(app, 'bo');
    expect(await me(app, first)).toEqual({ user: null, ended: 'SESSION_DISPLACED', note: null });
    expect((await me(app, second)).user).toBe('bo');
    expect(displaced).toEqual([{ userId: 'bo', sessionId: expect.any(String) }]);
    expect(await store.listSessions('bo')).toHaveLength(1);
  });

  test("onLimit 'reject-new': the second sign-in fails with SESSION_LIMIT_REACHED through req.login(), the first keeps working", async () => {
    const { app } = build({ maxSessions: 1, onLimit: 'reject-new' });
    const first = await logIn(app, 'cy');
    const refused = await request(app).post('/login').send({ username: 'cy', password: PASSWORD });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ code: 'SESSION_LIMIT_REACHED' });
    expect((await me(app, first)).user).toBe('cy');
  });

  test('parallel sign-ins leave exactly the limit', async () => {
    const { app, store } = build({ maxSessions: 2 });
    const responses = await Promise.all(Array.from({ length: 12 }, () => request(app).post('/login').send({ username: 'di', password: PASSWORD })));
    expect(responses.map((res) => res.status)).toEqual(Array(12).fill(200));
    const users = await Promise.all(responses.map(async (res) => (await me(app, cookieOf(res))).user));
    expect(users.filter((user) => user === 'di')).toHaveLength(2);
    expect(await store.listSessions('di')).toHaveLength(2);
  });

  test('a request still on its way on a displaced session cannot bring it back by saving', async () => {
    let reached!: () => void;
    let release!: () => void;
    const atRoute = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const { app, store } = build({ maxSessions: 1 }, { reached: () => reached(), wait: () => released });
    const first = await logIn(app, 'ed');
    const slow = request(app).post('/slow').set('Cookie', first).then((res) => res);
    await atRoute;
    const second = await logIn(app, 'ed');
    release();
    expect((await slow).status).toBe(200);
    expect(await me(app, first)).toEqual({ user: null, ended: 'SESSION_DISPLACED', note: null });
    // Nor by a direct save of the whole session, user included.
    await call<void>((cb) => store.set(sidOf(first), { cookie: {}, passport: { user: 'ed' }, note: 'again' }, cb));
    expect(await me(app, first)).toMatchObject({ user: null, note: null });
    expect(await store.listSessions('ed')).toHaveLength(1);
    expect((await me(app, second)).user).toBe('ed');
  });

  test('revokeSession and revokeUser end sessions by their public id; the cookie learns SESSION_REVOKED', async () => {
    const { app, store } = build({ maxSessions: 3 });
    const [a, b, c] = [await logIn(app, 'flo'), await logIn(app, 'flo'), await logIn(app, 'flo')];
    const [oldest, middle] = await store.listSessions('flo');
    expect(await store.revokeSession('flo', oldest!.sessionId)).toBe(true);
    expect(await me(app, a!)).toEqual({ user: null, ended: 'SESSION_REVOKED', note: null });
    expect(await store.revokeUser('flo', { except: middle!.sessionId })).toBe(1);
    expect((await me(app, b!)).user).toBe('flo');
    expect((await me(app, c!)).ended).toBe('SESSION_REVOKED');
  });

  test('req.logout() ends the session in Redis: the old cookie is signed out and cannot be saved back', async () => {
    const { app, store, prefix } = build();
    const cookie = await logIn(app, 'gus');
    await request(app).post('/logout').set('Cookie', cookie).expect(204);
    expect((await me(app, cookie)).user).toBeNull();
    expect(await store.listSessions('gus')).toEqual([]);
    await call<void>((cb) => store.set(sidOf(cookie), { cookie: {}, passport: { user: 'gus' } }, cb));
    expect(await store.listSessions('gus')).toEqual([]);
    // Not even by another process once the id's pointer is gone: the user's index remembers the id ended.
    await redis.del(pointerKey(prefix, hashToken(sidOf(cookie))));
    const elsewhere = buildStoreApp(client, { keyPrefix: prefix });
    await call<void>((cb) => elsewhere.store.set(sidOf(cookie), { cookie: {}, passport: { user: 'gus' } }, cb));
    expect(await store.listSessions('gus')).toEqual([]);
  });

  test('a cookie whose session is gone learns SESSION_EXPIRED; a session cannot change user without regenerating', async () => {
    const { app, store, prefix } = build();
    const cookie = await logIn(app, 'ida');
    for (const key of await keysWithPrefix(redis, prefix)) await redis.del(key);
    expect(await me(app, cookie)).toEqual({ user: null, ended: 'SESSION_EXPIRED', note: null });
    const other = await logIn(app, 'ida');
    const moved = call<void>((cb) => store.set(sidOf(other), { cookie: {}, passport: { user: 'jo' } }, cb));
    await expect(moved).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('a session with no user lives as long as its cookie; destroyed, it is never written again', async () => {
    const { store, prefix } = build();
    const sid = 'plain-session-id-0123456789';
    await call<void>((cb) => store.set(sid, { cookie: { expires: new Date(Date.now() + 60_000).toISOString() }, n: 1 }, cb));
    expect(await call((cb) => store.get(sid, cb))).toMatchObject({ n: 1 });
    const ttl = await redis.pttl(pointerKey(prefix, hashToken(sid)));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // touch refreshes the cookie only: a change another request saved meanwhile is kept.
    await call<void>((cb) => store.set(sid, { cookie: { expires: new Date(Date.now() + 60_000).toISOString() }, n: 2 }, cb));
    const later = new Date(Date.now() + 120_000).toISOString();
    await call<void>((cb) => store.touch(sid, { cookie: { expires: later }, n: 1 }, cb));
    expect(await call((cb) => store.get(sid, cb))).toEqual({ cookie: { expires: later }, n: 2 });
    expect(await redis.pttl(pointerKey(prefix, hashToken(sid)))).toBeGreaterThan(110_000);
    await call<void>((cb) => store.destroy(sid, cb));
    await call<void>((cb) => store.set(sid, { cookie: {}, n: 3 }, cb));
    expect(await call((cb) => store.get(sid, cb))).toBeNull();
  });

  test('touch never creates a session; all, length and clear see only their own prefix', async () => {
    const one = build();
    const other = build();
    await call<void>((cb) => one.store.touch('never-saved-id-0123456789', { cookie: {} }, cb));
    expect(await keysWithPrefix(redis, one.prefix)).toEqual([]);
    await logIn(one.app, 'hal');
    await call<void>((cb) => one.store.set('anonymous-id-0123456789', { cookie: {}, cart: 1 }, cb));
    await logIn(other.app, 'hal');
    expect(await call((cb) => one.store.length(cb))).toBe(2);
    expect(await call<unknown[]>((cb) => one.store.all(cb))).toEqual(expect.arrayContaining([expect.objectContaining({ cart: 1 }), expect.objectContaining({ passport: { user: 'hal' } })]));
    await call<void>((cb) => one.store.clear(cb));
    expect(await call((cb) => one.store.length(cb))).toBe(0);
    expect(await call((cb) => other.store.length(cb))).toBe(1);
  });
});
