/**
 * The manager as an EventEmitter (login, displaced, limit, logout, revoked, expired, store-error,
 * request: each with userId and sessionId where known, never a token; a throwing listener never
 * breaks a request) and the prom-client metrics fed by them, read from a real Registry.
 */
import express from 'express';
import cookieParser from 'cookie-parser';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createSessionManager, type SessionEvents, type SessionManager } from '../../lib';
import { hashToken } from '../../lib/token';
import { freePort, waitUntil } from '../helpers/redis-servers';
import { buildOn, isSessionKey, keysWithPrefix, rawValueOf, sessionCookieOf, signIn, useApp } from '../helpers/suite';
import { BEHAVIOUR_TARGETS, isCached } from '../helpers/targets';

const NAMES: (keyof SessionEvents)[] = ['login', 'displaced', 'limit', 'logout', 'revoked', 'expired', 'store-error', 'request'];

/** Records every event the manager emits, in order. */
function recordEvents(sessions: SessionManager): { name: string; event: any }[] {
  const seen: { name: string; event: any }[] = [];
  for (const name of NAMES) sessions.on(name, (event) => seen.push({ name, event }));
  return seen;
}

/** The value of a counter (with `labels`) in the registry, 0 when absent. */
async function valueOf(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  const match = values.find((v) => (v.metricName === undefined || v.metricName === name) && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? 0;
}

describe.each(BEHAVIOUR_TARGETS)('events and metrics ($name)', (target) => {
  describe('events', () => {
    const ctx = useApp(target, { idleTimeout: 3, absoluteTimeout: false });

    test('each operation emits its event with userId and sessionId, and no event holds a token', async () => {
      const seen = recordEvents(ctx.sessions);
      const first = await request(ctx.app).post('/login').send({ userId: 'evented' });
      const firstId = first.body.sessionId;
      const second = await request(ctx.app).post('/login').send({ userId: 'evented' });
      const secondId = second.body.sessionId;
      const secondCookie = sessionCookieOf(second.headers['set-cookie']);
      await request(ctx.app).get('/me').set('Cookie', secondCookie);
      const third = await request(ctx.app).post('/login').set('Cookie', secondCookie).send({ userId: 'evented' });
      const thirdId = third.body.sessionId;
      await ctx.sessions.revokeSession('evented', thirdId);
      const fourth = await signIn(ctx.app, 'evented');
      const fourthId = (await request(ctx.app).get('/me').set('Cookie', fourth)).body.sessionId;
      await request(ctx.app).post('/logout').set('Cookie', fourth);
      const idle = await signIn(ctx.app, 'evented');
      // The only live record is the idle one: wait for Redis to expire it (3 s), not for a guessed time.
      await waitUntil('the idle session to expire', async () => (await keysWithPrefix(ctx.redis, ctx.prefix)).filter(isSessionKey).length === 0, 10_000, 20);
      await request(ctx.app).get('/me').set('Cookie', idle);

      const of = (name: string) => seen.filter((e) => e.name === name).map((e) => e.event);
      expect(of('login').slice(0, 3)).toEqual([
        { userId: 'evented', sessionId: firstId },
        { userId: 'evented', sessionId: secondId },
        { userId: 'evented', sessionId: thirdId },
      ]);
      expect(of('displaced')).toEqual([{ userId: 'evented', sessionId: firstId }]);
      expect(of('logout')).toEqual([{ userId: 'evented', sessionId: secondId }, { userId: 'evented', sessionId: fourthId }]);
      expect(of('revoked')).toEqual([{ userId: 'evented', sessionId: thirdId }]);
      expect(of('expired')).toEqual([{ userId: null, sessionId: null }]);
      // Every request through the middleware, the sign-ins without a cookie included.
      expect(of('request').map((e) => e.outcome)).toEqual([
        'SESSION_MISSING', 'SESSION_MISSING', 'OK', 'OK', 'SESSION_MISSING', 'OK', 'OK', 'SESSION_MISSING', 'SESSION_EXPIRED',
      ]);

      const text = JSON.stringify(seen);
      for (const cookie of [sessionCookieOf(first.headers['set-cookie']), secondCookie, fourth, idle]) {
        const token = rawValueOf(cookie).split('.')[1];
        expect(text).not.toContain(token);
        expect(text).not.toContain(hashToken(token));
      }
    });

    test('a listener that throws never breaks a request or a method', async () => {
      const throwing = () => {
        throw new Error('listener bug');
      };
      for (const name of NAMES) ctx.sessions.on(name, throwing);
      try {
        const a = await signIn(ctx.app, 'robust');
        const b = await signIn(ctx.app, 'robust');
        expect((await request(ctx.app).get('/me').set('Cookie', b)).status).toBe(200);
        expect((await request(ctx.app).get('/me').set('Cookie', a)).body.error.code).toBe('SESSION_DISPLACED');
        expect(await ctx.sessions.revokeUser('robust')).toBe(1);
        const c = await signIn(ctx.app, 'robust');
        expect((await request(ctx.app).post('/logout').set('Cookie', c)).status).toBe(204);
      } finally {
        for (const name of NAMES) ctx.sessions.off(name, throwing);
      }
    });
  });

  describe("limit events with onLimit 'reject-new'", () => {
    const ctx = useApp(target, { onLimit: 'reject-new' });

    test('a refused sign-in emits limit with the user id and no session id', async () => {
      const seen = recordEvents(ctx.sessions);
      await signIn(ctx.app, 'limited');
      expect((await request(ctx.app).post('/login').send({ userId: 'limited' })).status).toBe(409);
      expect(seen.filter((e) => e.name === 'limit').map((e) => e.event)).toEqual([{ userId: 'limited', sessionId: null }]);
    });
  });

  describe('metrics with a prom-client Registry', () => {
    const registry = new Registry();
    const ctx = useApp(target, { metrics: { registry } });

    test('counts sign-ins, displacements, revocations, sign-outs and request outcomes, and times store calls', async () => {
      const a = await signIn(ctx.app, 'metered');
      const b = await signIn(ctx.app, 'metered');
      await request(ctx.app).get('/me').set('Cookie', b);
      await request(ctx.app).get('/me').set('Cookie', a);
      await ctx.sessions.revokeUser('metered');
      await request(ctx.app).get('/me').set('Cookie', b);
      const c = await signIn(ctx.app, 'metered');
      await request(ctx.app).post('/logout').set('Cookie', c);
      await request(ctx.app).get('/me');

      expect(await valueOf(registry, 'ess_sign_ins_total')).toBe(3);
      expect(await valueOf(registry, 'ess_displacements_total')).toBe(1);
      expect(await valueOf(registry, 'ess_revocations_total')).toBe(1);
      expect(await valueOf(registry, 'ess_logouts_total')).toBe(1);
      expect(await valueOf(registry, 'ess_sign_in_rejections_total')).toBe(0);
      // /me with b and /logout with c are OK; the three cookie-less sign-ins and the anonymous /me are SESSION_MISSING.
      expect(await valueOf(registry, 'ess_requests_total', { outcome: 'OK' })).toBe(2);
      expect(await valueOf(registry, 'ess_requests_total', { outcome: 'SESSION_DISPLACED' })).toBe(1);
      expect(await valueOf(registry, 'ess_requests_total', { outcome: 'SESSION_REVOKED' })).toBe(1);
      expect(await valueOf(registry, 'ess_requests_total', { outcome: 'SESSION_MISSING' })).toBe(4);
      const latency = (await registry.getMetricsAsJSON()).find((m) => m.name === 'ess_store_call_seconds')!;
      const counts = (latency.values as { metricName: string; labels: Record<string, string>; value: number }[])
        .filter((v) => v.metricName === 'ess_store_call_seconds_count')
        .map((v) => [v.labels.operation, v.labels.result, v.value]);
      expect(counts).toEqual(expect.arrayContaining([['login', 'ok', 3], ['resolve', 'ok', 4], ['revoke', 'ok', 1], ['logout', 'ok', 1]]));
      const text = await registry.metrics();
      expect(text).toMatch(/# TYPE ess_store_call_seconds histogram/);
      expect(text).not.toMatch(/metered/); // no user ids in labels
    });

    test('counts rejected sign-ins', async () => {
      const rejections = new Registry();
      const { app } = buildOn(target, ctx.redis, { keyPrefix: ctx.prefix, onLimit: 'reject-new', metrics: { registry: rejections } });
      await signIn(app, 'metered-limit');
      await request(app).post('/login').send({ userId: 'metered-limit' });
      await request(app).post('/login').send({ userId: 'metered-limit' });
      expect(await valueOf(rejections, 'ess_sign_in_rejections_total')).toBe(2);
      expect(await valueOf(rejections, 'ess_sign_ins_total')).toBe(1);
    });
  });
});

/** How many store calls of `operation` answered (the store-call histogram's count). */
async function storeCalls(registry: Registry, operation: string): Promise<number> {
  const latency = (await registry.getMetricsAsJSON()).find((m) => m.name === 'ess_store_call_seconds');
  const values = (latency?.values ?? []) as { metricName: string; labels: Record<string, string>; value: number }[];
  return values.find((v) => v.metricName === 'ess_store_call_seconds_count' && v.labels.operation === operation && v.labels.result === 'ok')?.value ?? 0;
}

describe.each(BEHAVIOUR_TARGETS)('store calls of repeat requests ($name)', (target) => {
  const registry = new Registry();
  // touchAfter 30 s: no refresh falls due during the test, so every store call counted is a read.
  const ctx = useApp(target, { touchAfter: 30, metrics: { registry } });

  /** Resolves once the manager's tracked connection is up: before that, requests read Redis directly and nothing is cached. */
  async function trackingUp(): Promise<void> {
    const warm = await signIn(ctx.app, 'repeat-warm');
    await waitUntil('the local cache to answer a repeat request', async () => {
      await request(ctx.app).get('/me').set('Cookie', warm);
      const seen = await storeCalls(registry, 'resolve');
      await request(ctx.app).get('/me').set('Cookie', warm);
      return (await storeCalls(registry, 'resolve')) === seen;
    }, 5000, 20);
  }

  test('each repeat request is one resolve call without localCache, and none once it is a local cache hit', async () => {
    if (isCached(target)) await trackingUp();
    const cookie = await signIn(ctx.app, 'repeat');
    const before = await storeCalls(registry, 'resolve');
    for (let i = 0; i < 4; i++) expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(200);
    const reads = (await storeCalls(registry, 'resolve')) - before;
    // The README's "Local cache": the first request reads Redis and fills the entry, the repeats are answered from it.
    expect(reads).toBe(isCached(target) ? 1 : 4);
  });
});

describe('store-error events', () => {
  test('a store failure emits store-error with the operation, and the call still rejects SESSION_STORE_UNAVAILABLE', async () => {
    const port = await freePort(); // nothing listens there
    const redis = new Redis({ port, lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    const registry = new Registry();
    const sessions = createSessionManager({ redis, storeTimeoutMs: 200, metrics: { registry } });
    const seen = recordEvents(sessions);
    sessions.on('store-error', () => {
      throw new Error('a failing logger');
    });
    const app = express();
    app.use(cookieParser('secret'));
    app.use(sessions.middleware());
    app.post('/login', async (req, res) => {
      try {
        await sessions.login(req, res, 'offline-user');
        res.sendStatus(200);
      } catch (err) {
        res.status((err as { status: number }).status).json({ code: (err as { code: string }).code });
      }
    });
    const res = await request(app).post('/login');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect(res.headers['set-cookie']).toBeUndefined();
    await expect(sessions.listSessions('offline-user')).rejects.toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE' });
    const errors = seen.filter((e) => e.name === 'store-error').map((e) => e.event);
    expect(errors.map((e) => e.operation)).toEqual(['login', 'listSessions']);
    for (const e of errors) expect(e.error).toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE', status: 503 });
    const latency = (await registry.getMetricsAsJSON()).find((m) => m.name === 'ess_store_call_seconds')!;
    expect((latency.values as { labels: Record<string, string> }[]).some((v) => v.labels.result === 'error')).toBe(true);
    redis.disconnect();
  });
});

describe('metrics without prom-client', () => {
  test('the metrics option fails at creation with INVALID_OPTIONS saying to install prom-client', () => {
    jest.isolateModules(() => {
      jest.doMock('prom-client', () => {
        throw Object.assign(new Error("Cannot find module 'prom-client'"), { code: 'MODULE_NOT_FOUND' });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../../lib') as typeof import('../../lib');
      const redis = new Redis({ lazyConnect: true });
      expect(() => isolated.createSessionManager({ redis, metrics: { registry: new Registry() } })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/npm install prom-client/) }),
      );
      redis.disconnect();
    });
  });
});
