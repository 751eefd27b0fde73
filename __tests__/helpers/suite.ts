/**
 * Shared plumbing for the behaviour suites: one app per test file on a target Redis with a
 * private key prefix (its client under test, plus an ioredis client to inspect keys), sign-in helpers, and a key scan that works on a single Redis and a Cluster.
 */
import { createHmac } from 'node:crypto';
import type { Express } from 'express';
import Redis, { Cluster } from 'ioredis';
import request from 'supertest';
import type { SessionManager, SessionManagerOptions } from '../../lib';
import { keyNamer, type UserKeys } from '../../lib/store/keys';
import { userTagOf } from '../../lib/token';
import { buildApp, TEST_SECRET, type ExtraRoutes } from './app';
import { closeClient, isCached, isNodeRedisClient, uniquePrefix, type AppRedis, type Target } from './targets';

/** What a behaviour test file works with; filled in by beforeAll. */
export interface SuiteContext {
  /** The client the app passed to the package (the target's library). */
  client: AppRedis;
  /** An ioredis client on the same deployment, to look at keys. */
  redis: Redis | Cluster;
  app: Express;
  sessions: SessionManager;
  prefix: string;
}

/**
 * Builds a test app on `client` for `target`: the target's own options (e.g. `localCache`) first, then
 * `options`. For a second app beside the one {@link useApp} built (pass its `keyPrefix`).
 */
export function buildOn(
  target: Target,
  client: AppRedis,
  options: Partial<SessionManagerOptions> = {},
  routes?: ExtraRoutes,
): { app: Express; sessions: SessionManager } {
  return buildApp(client, { ...target.options, ...options }, routes);
}

/** Registers beforeAll/afterAll that build the test app on `target` with its options, then `options`. */
export function useApp(target: Target, options: Partial<SessionManagerOptions> = {}, routes?: ExtraRoutes): SuiteContext {
  const ctx = {} as SuiteContext;
  beforeAll(async () => {
    ctx.client = target.connect();
    // Finding the master through the sentinels can take longer than the first request's storeTimeoutMs
    // on a loaded machine: Sentinel targets are connected before the app is built, as an app would at startup.
    if (target.deployment === 'sentinel') await connected(ctx.client);
    ctx.redis = target.ioredis();
    ctx.prefix = uniquePrefix();
    Object.assign(ctx, buildOn(target, ctx.client, { keyPrefix: ctx.prefix, ...options }, routes));
  });
  afterAll(async () => {
    await closeClient(ctx.client);
    await ctx.redis.quit();
  });
  return ctx;
}

/**
 * A describe block every target runs but the cached one ({@link isCached}): for blocks that need
 * `touchAfter: 0`, which `localCache` refuses (every request would refresh in Redis, so nothing could be
 * served locally). Say at the call which block covers the same behaviour with the cache on.
 */
export function describeUncached(target: Target, name: string, fn: () => void): void {
  if (!isCached(target)) describe(name, fn);
}

/** Resolves once `client` (either library) is connected and ready. */
async function connected(client: AppRedis): Promise<void> {
  if (isNodeRedisClient(client)) {
    if (!client.isOpen) await client.connect();
    return;
  }
  if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
}

/** Signs `userId` in through POST /login and returns the `name=value` cookie pair to send back. */
export async function signIn(app: Express, userId: string, data?: object): Promise<string> {
  const res = await request(app).post('/login').send({ userId, data });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return sessionCookieOf(res.headers['set-cookie']);
}

/** The `name=value` part of the session cookie in a Set-Cookie header. */
export function sessionCookieOf(setCookie: string | string[] | undefined, name = 'ess_sid'): string {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const line = all.find((c) => c.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(setCookie)}`);
  return line.split(';')[0];
}

/** The raw `<userTag>.<token>` value inside a signed cookie pair. */
export function rawValueOf(cookiePair: string): string {
  const value = decodeURIComponent(cookiePair.slice(cookiePair.indexOf('=') + 1));
  return value.slice(2, value.lastIndexOf('.'));
}

/** Signs a value the way cookie-parser expects, with the test secret. */
export function signCookieValue(value: string, secret = TEST_SECRET): string {
  const signature = createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${value}.${signature}`);
}

/** Every key under `prefix`, on every master of a Cluster or on the single server. */
export async function keysWithPrefix(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) keys.push(...(await node.keys(`${prefix}*`)));
  return keys.sort();
}

/** Resolves after `ms`; only for waiting out real TTLs. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Redis keys the store uses for `userId` under `prefix`, named by the store itself. */
export function userKeys(prefix: string, userId: string): UserKeys {
  return keyNamer(prefix)(userTagOf(userId));
}

/** True for a session record's key (as opposed to a user index). */
export function isSessionKey(key: string): boolean {
  return /\}[A-Za-z0-9_-]{21}$/.test(key);
}

/** True for a user index's key. */
export function isIndexKey(key: string): boolean {
  return /\}:v\d+$/.test(key);
}

/** Redis's clock now, in ms since the epoch (TIME): the clock the package's deadlines are on. */
export async function redisTime(redis: Redis | Cluster): Promise<number> {
  const node = redis instanceof Cluster ? redis.nodes('master')[0]! : redis;
  const [seconds, micros] = (await node.time()) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Resolves once Redis's clock has passed `epochMs`: a wait bounded by what Redis reports, not by a
 * sleep, so a loaded machine can only make it later, never early.
 */
export async function untilRedisTime(redis: Redis | Cluster, epochMs: number): Promise<void> {
  for (let now = await redisTime(redis); now <= epochMs; now = await redisTime(redis)) await sleep(Math.min(50, epochMs - now + 1));
}

/**
 * A gate a route waits at after its session resolved, so a test can change the session meanwhile:
 * `reached` settles when the route arrives, `open()` lets it go on. A new gate is closed.
 */
export interface Gate {
  readonly reached: Promise<void>;
  open(): void;
  wait(): Promise<void>;
}

/** A closed gate. */
export function closedGate(): Gate {
  let reached!: () => void;
  let open!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { reached: arrived, open, wait: async () => { reached(); await opened; } };
}

/** A gate that lets every request through: the state before a test closes one. */
export const OPEN_GATE: Gate = { reached: Promise.resolve(), open: () => undefined, wait: () => Promise.resolve() };
