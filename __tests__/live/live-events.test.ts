/**
 * Live sign-out: a session that ends for any reason is told at once to every open event stream of it,
 * whichever app process holds the stream, on a single Redis and on a Redis Cluster.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Redis, { Cluster } from 'ioredis';
import request from 'supertest';
import type { SessionEvent, SessionManager } from '../../lib';
import { keyNamer } from '../../lib/store/keys';
import { slotOf } from '../../lib/clients/slot';
import { hashToken, userTagOf } from '../../lib/token';
import { startAppProcess, type AppProcess, type RedisTarget } from '../helpers/app-processes';
import { buildApp } from '../helpers/app';
import { openStream, type SseStream } from '../helpers/sse';
import { rawValueOf, sessionCookieOf, sleep } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

/** An app on its own port in this process. */
async function listen(redis: Redis | Cluster, options: object, routes?: Parameters<typeof buildApp>[2]) {
  const { app, sessions } = buildApp(redis, options, routes);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { app, sessions, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function signInAt(base: string, userId: string, cookie?: string): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify({ userId }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return sessionCookieOf(res.headers.getSetCookie());
}

const redisTargetOf = (deployment: string): RedisTarget =>
  deployment === 'cluster'
    ? { cluster: (process.env.ESS_TEST_CLUSTER_PORTS ?? '').split(',').map(Number) }
    : { port: Number(process.env.ESS_TEST_REDIS_PORT) };

/** The master connection that serves `key` (the server itself on a single Redis). */
function nodeOf(redis: Redis | Cluster, key: string): Redis {
  if (!(redis instanceof Cluster)) return redis;
  const owner = (redis as unknown as { slots: string[][] }).slots[slotOf(key)][0];
  return redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner)!;
}

describe.each(TARGETS.filter((t) => t.client === 'ioredis'))('live sign-out on $name', (target) => {
  const prefix = uniquePrefix();
  let redis: Redis | Cluster;
  let here: Awaited<ReturnType<typeof listen>>;
  let other: AppProcess;
  const streams: SseStream[] = [];
  const open = async (base: string, cookie: string, path?: string): Promise<SseStream> => {
    const stream = await openStream(base, cookie, path);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    redis = target.ioredis();
    here = await listen(redis, { keyPrefix: prefix }, (app, sessions) => {
      app.get('/events-capped', sessions.liveEvents({ maxStreamsPerSession: 2, heartbeatSeconds: 0.1 }));
      // Ends the session after the middleware found it live and before the stream subscribes.
      app.get('/events-late', async (req, res, next) => {
        await sessions.revokeUser(req.session!.userId);
        sessions.liveEvents()(req, res, next);
      });
    });
    other = await startAppProcess(redisTargetOf(target.deployment), { keyPrefix: prefix });
  }, 30_000);

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await other.stop();
    await new Promise((resolve) => here.server.close(resolve));
    await redis.quit();
  });

  test('on connect the stream sends the session facts, never a token', async () => {
    const cookie = await signInAt(here.base, 'facts');
    const me = await request(here.app).get('/me').set('Cookie', cookie);
    const stream = await open(other.base, cookie);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const { data } = await stream.next('session');
    expect(data).toEqual({ sessionId: me.body.sessionId, expiresAt: expect.any(String) });
    expect(Date.parse(data.expiresAt as string)).toBeGreaterThan(Date.now());
    await signInAt(here.base, 'facts');
    await stream.next('ended');
    const raw = rawValueOf(cookie);
    const token = raw.split('.')[1];
    expect(stream.raw).not.toContain(token);
    expect(stream.raw).not.toContain(hashToken(token));
    expect(stream.raw).not.toContain(raw.split('.')[0]);
  });

  test.each([
    ['a newer sign-in through the other process', 'SESSION_DISPLACED', (base: string, _cookie: string) => signInAt(base, 'reasons')],
    ['a revocation through the other process', 'SESSION_REVOKED', (base: string) => fetch(`${base}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId: 'reasons' }) })],
    ['a sign-out through the other process', 'SESSION_LOGGED_OUT', (base: string, cookie: string) => fetch(`${base}/logout`, { method: 'POST', headers: { Cookie: cookie } })],
  ])('%s reaches a stream held here and in the other process: %s', async (_what, code, end) => {
    // The stream in one process, the ending in the other, both ways round.
    for (const [holder, ender] of [[other.base, here.base], [here.base, other.base]]) {
      const cookie = await signInAt(ender, 'reasons');
      const stream = await open(holder, cookie);
      await stream.next('session');
      const started = performance.now();
      await end(ender, cookie);
      const ended = await stream.next('ended', 2000);
      expect(ended.data).toEqual({ code });
      expect(ended.at - started).toBeLessThan(1000);
      await stream.closed();
    }
  });

  test('ends done by another process fire displaced / revoked here with remote: true; our own ends are not repeated', async () => {
    const heard: [string, SessionEvent][] = [];
    const onDisplaced = (event: SessionEvent) => heard.push(['displaced', event]);
    const onRevoked = (event: SessionEvent) => heard.push(['revoked', event]);
    here.sessions.on('displaced', onDisplaced).on('revoked', onRevoked);
    const cookie = await signInAt(here.base, 'remote-events');
    const sessionId = (await request(here.app).get('/me').set('Cookie', cookie)).body.sessionId as string;
    const stream = await open(here.base, cookie);
    await stream.next('session');
    await signInAt(other.base, 'remote-events');
    await stream.next('ended');
    for (let i = 0; i < 50 && heard.length === 0; i++) await sleep(20);
    expect(heard).toEqual([['displaced', { userId: 'remote-events', sessionId, remote: true }]]);

    // Displaced by a sign-in through this process: the local event only, no remote copy.
    heard.length = 0;
    const second = await signInAt(other.base, 'remote-events');
    const mine = await open(here.base, second);
    await mine.next('session');
    const watcher = await open(here.base, await signInAt(here.base, 'remote-watcher'));
    await watcher.next('session');
    await signInAt(here.base, 'remote-events');
    await mine.next('ended');
    await sleep(100);
    expect(heard.map(([name, event]) => [name, event.remote])).toEqual([['displaced', undefined]]);

    // Revoked through the other process: `revoked` here with remote: true.
    heard.length = 0;
    const revokedCookie = await signInAt(other.base, 'remote-events');
    const revokedId = (await request(here.app).get('/me').set('Cookie', revokedCookie)).body.sessionId as string;
    const revokedStream = await open(here.base, revokedCookie);
    await revokedStream.next('session');
    await fetch(`${other.base}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId: 'remote-events' }) });
    expect((await revokedStream.next('ended')).data).toEqual({ code: 'SESSION_REVOKED' });
    for (let i = 0; i < 50 && heard.length === 0; i++) await sleep(20);
    expect(heard).toEqual([['revoked', { userId: 'remote-events', sessionId: revokedId, remote: true }]]);
    here.sessions.off('displaced', onDisplaced).off('revoked', onRevoked);
  });

  test('a session that ends before its stream subscribed gets ended at once; an ended session gets 401 JSON', async () => {
    const cookie = await signInAt(here.base, 'late');
    const stream = await open(here.base, cookie, '/events-late');
    expect((await stream.next('ended')).data).toEqual({ code: 'SESSION_REVOKED' });
    expect(stream.events.map((e) => e.event)).toEqual(['ended']);
    await stream.closed();

    const refused = await open(other.base, cookie);
    expect(refused.status).toBe(401);
    expect(await refused.body()).toEqual({ error: { code: 'SESSION_REVOKED', message: expect.any(String) } });
    const none = await open(other.base, '');
    expect(none.status).toBe(401);
    expect(await none.body()).toMatchObject({ error: { code: 'SESSION_MISSING' } });
  });

  test('one subscriber connection for many users, unsubscribed when their last stream closes', async () => {
    const cookies = await Promise.all(['sub-1', 'sub-2', 'sub-3', 'sub-4'].map((user) => signInAt(here.base, user)));
    const opened = await Promise.all(cookies.map((cookie) => open(here.base, cookie)));
    await Promise.all(opened.map((s) => s.next('session')));
    const channel = keyNamer(prefix)(userTagOf('sub-1')).channel;
    const node = nodeOf(redis, channel);
    expect(await node.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
    const masters = redis instanceof Cluster ? redis.nodes('master') : [redis];
    const bound = redis instanceof Cluster ? 2 * masters.length : 2;
    const count = async (): Promise<number> =>
      (await Promise.all(masters.map(async (m) => String(await m.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter(Boolean).length))).reduce((x, y) => x + y, 0);
    // This process and the other app process each hold one connection (a Cluster: at most one per master).
    // Connections of earlier tests' closed streams may still be on their way out: give them 2 s to go.
    let total = await count();
    for (let i = 0; i < 100 && total > bound; i++) total = (await sleep(20), await count());
    expect(total).toBeGreaterThanOrEqual(1);
    expect(total).toBeLessThanOrEqual(bound);
    opened[0].close();
    for (let i = 0; i < 100 && ((await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1] !== 0; i++) await sleep(10);
    expect(await node.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 0]);
  });

  test('a subscriber that lost its connection subscribes again and re-checks its streams', async () => {
    const cookie = await signInAt(here.base, 'reconnect');
    const stream = await open(here.base, cookie);
    await stream.next('session');
    const channel = keyNamer(prefix)(userTagOf('reconnect')).channel;
    const node = nodeOf(redis, channel);
    // Kill the subscriber connections, then revoke before they reconnect (their first retry waits 50 ms):
    // the notice is published while nobody listens, so only the re-check can end the stream.
    const killed = await node.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    expect(Number(killed)).toBeGreaterThanOrEqual(1);
    expect(await here.sessions.revokeUser('reconnect')).toBe(1);
    expect((await stream.next('ended', 5000)).data).toEqual({ code: 'SESSION_REVOKED' });

    // And the subscription is back: a later notice arrives as a notice.
    const again = await signInAt(here.base, 'reconnect');
    const next = await open(here.base, again);
    await next.next('session');
    await signInAt(other.base, 'reconnect');
    expect((await next.next('ended', 2000)).data).toEqual({ code: 'SESSION_DISPLACED' });
  });

  test('at most maxStreamsPerSession streams per session: the oldest is closed; heartbeats flow', async () => {
    const cookie = await signInAt(here.base, 'capped');
    const first = await open(here.base, cookie, '/events-capped');
    await first.next('session');
    const second = await open(here.base, cookie, '/events-capped');
    await second.next('session');
    const third = await open(here.base, cookie, '/events-capped');
    await third.next('session');
    await first.closed();
    expect(first.events.map((e) => e.event)).toEqual(['session']);
    expect(first.raw).toContain('retry: ');
    await sleep(250);
    expect(second.ended || third.ended).toBe(false);
    expect(third.comments).toBeGreaterThanOrEqual(1);
    await signInAt(other.base, 'capped');
    await Promise.all([second.next('ended'), third.next('ended')]);
  });

  test('by default a session holds at most 10 streams: the 11th closes the oldest', async () => {
    const cookie = await signInAt(here.base, 'default-cap');
    const opened: SseStream[] = [];
    for (let i = 0; i < 11; i++) {
      const stream = await open(here.base, cookie);
      await stream.next('session');
      opened.push(stream);
    }
    await opened[0].closed();
    expect(opened[0].events.map((e) => e.event)).toEqual(['session']);
    await sleep(100);
    expect(opened.slice(1).filter((s) => s.ended)).toHaveLength(0);
    await signInAt(other.base, 'default-cap');
    const ended = await Promise.all(opened.slice(1).map((s) => s.next('ended')));
    expect(ended.map((e) => e.data.code)).toEqual(Array(10).fill('SESSION_DISPLACED'));
  });
});

describe('liveEvents() options', () => {
  test('options it cannot use throw INVALID_OPTIONS at creation', () => {
    const redis = new Redis({ lazyConnect: true });
    const { sessions } = buildApp(redis) as { sessions: SessionManager };
    for (const bad of [{ heartbeatSeconds: 0 }, { heartbeatSeconds: '5' }, { maxStreamsPerSession: 0 }, { maxStreamsPerSession: 1.5 }, { heartbeat: 5 }]) {
      expect(() => sessions.liveEvents(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    }
    redis.disconnect();
  });
});

describe.each(TARGETS.filter((t) => t.client === 'ioredis'))('an event stream is not activity on $name', (target) => {
  const prefix = uniquePrefix();
  let redis: Redis | Cluster;
  let here: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    redis = target.ioredis();
    here = await listen(redis, { keyPrefix: prefix, idleTimeout: 2 });
  });
  afterAll(async () => {
    await new Promise((resolve) => here.server.close(resolve));
    await redis.quit();
  });

  test('streams never extend the idle timeout, and an idle session ends with SESSION_EXPIRED within a second of expiry', async () => {
    const signedIn = Date.now();
    const cookie = await signInAt(here.base, 'idle');
    await sleep(800);
    const streams = [await openStream(here.base, cookie), await openStream(here.base, cookie)];
    const first = await streams[0].next('session');
    // The expiry the stream announces is the sign-in's, not moved by opening the stream.
    expect(Date.parse(first.data.expiresAt as string)).toBeLessThan(signedIn + 2300);
    await sleep(500);
    await openStream(here.base, cookie).then((s) => s.close());
    for (const stream of streams) {
      expect((await stream.next('ended', 3000)).data).toEqual({ code: 'SESSION_EXPIRED' });
    }
    const endedAt = Date.now();
    expect(endedAt - signedIn).toBeLessThan(2000 + 1000);
    expect(endedAt - signedIn).toBeGreaterThanOrEqual(1900);
    expect((await request(here.app).get('/me').set('Cookie', cookie)).status).toBe(401);
  });

  test('a request in another tab moves the expiry: the stream announces the new one instead of ending', async () => {
    const cookie = await signInAt(here.base, 'active');
    const stream = await openStream(here.base, cookie);
    const before = Date.parse((await stream.next('session')).data.expiresAt as string);
    await sleep(1000);
    expect((await request(here.app).get('/me').set('Cookie', cookie)).status).toBe(200);
    const moved = await stream.next('session', 2500);
    expect(Date.parse(moved.data.expiresAt as string)).toBeGreaterThan(before + 500);
    expect((await stream.next('ended', 3500)).data).toEqual({ code: 'SESSION_EXPIRED' });
  });
});
