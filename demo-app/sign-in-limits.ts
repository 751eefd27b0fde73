/**
 * Brute-force protection for the demo's password forms (the two sign-in routes and the step-up
 * "Confirm your password"): failed attempts limited per IP and per username with express-rate-limit, counted in Redis (rate-limit-redis) so the limit holds across
 * every app process. The session package never sees passwords: this is the app's job.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler, Request, Response } from 'express';
import { ipKeyGenerator, rateLimit, type AugmentedRequest, type Options } from 'express-rate-limit';
import type { SessionManagerOptions } from '../lib';
import { RedisStore, type RedisReply } from 'rate-limit-redis';

/** How many failed sign-ins are allowed per window. */
export interface SignInLimits {
  /** Failed attempts per client IP (IPv6: per /56). @default 50 */
  readonly perIp: number;
  /** Failed attempts per username, from anywhere. @default 10 */
  readonly perUsername: number;
  /** The window, in seconds. @default 900 */
  readonly windowSeconds: number;
}

/** The demo's defaults: generous for people, useless for a password-guessing script. */
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perIp: 50, perUsername: 10, windowSeconds: 900 };

/** Answers a refused attempt; `retryAfter` is in seconds. */
export type OnLimited = (req: Request, res: Response, retryAfter: number) => void;

/** How long a limiter waits for Redis before letting the attempt through to login(), which fails closed. */
const STORE_TIMEOUT_MS = 1000;

/** Rejects when `reply` takes longer than STORE_TIMEOUT_MS, so an outage cannot hang sign-ins. */
function inTime(reply: Promise<unknown>): Promise<RedisReply> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([reply, timeout]).finally(() => clearTimeout(timer)) as Promise<RedisReply>;
}

/**
 * A rate-limit-redis store on the app's ioredis client (plain, Sentinel or Cluster; ioredis routes
 * each command by its key). SCRIPT LOAD is answered locally with the script's SHA-1 and EVALSHA
 * falls back to EVAL on NOSCRIPT (any other error is passed on): no script has to be loaded at
 * start-up, so a Redis that is down then, or a Cluster master that never saw the script, cannot
 * leave the limiter broken for good.
 */
/** One raw command on the app's client, ioredis (`call`) or node-redis (`sendCommand`, by first key on a Cluster). */
function rawCommand(redis: SessionManagerOptions['redis'], name: string, args: string[]): Promise<unknown> {
  const client = redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  if (typeof client.call === 'function') return client.call(name, ...args);
  if (typeof client.nodeClient === 'function') {
    const firstKey = /^EVAL/i.test(name) ? args[2] : args[0];
    return client.sendCommand!(firstKey, false, [name, ...args]);
  }
  return client.sendCommand!([name, ...args]);
}

function storeOn(redis: SessionManagerOptions['redis'], prefix: string): RedisStore {
  const scripts = new Map<string, string>();
  const sendCommand = async (name: string, ...args: string[]): Promise<RedisReply> => {
    const command = name.toUpperCase();
    if (command === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD' && args[1] !== undefined) {
      const sha = createHash('sha1').update(args[1]).digest('hex');
      scripts.set(sha, args[1]);
      return sha;
    }
    try {
      return await inTime(rawCommand(redis, name, args));
    } catch (err) {
      const script = command === 'EVALSHA' ? scripts.get(args[0] ?? '') : undefined;
      if (!script || !/^NOSCRIPT/.test((err as Error).message)) throw err;
      return inTime(rawCommand(redis, 'EVAL', [script, ...args.slice(1)]));
    }
  };
  return new RedisStore({ prefix, sendCommand });
}

/**
 * The username an attempt is for, normalised as accounts.ts does: the body's, or for a password
 * confirmation (no username in the form) the signed-in user's; null when there is neither.
 */
function usernameOf(req: Request): string | null {
  const username: unknown = (req.body as Record<string, unknown> | undefined)?.username ?? req.session?.userId;
  return typeof username === 'string' && username.trim() ? username.trim().toLowerCase() : null;
}

/**
 * The two limiters, to mount on a password route after its body parser: per IP, then per username.
 * A wrong password at "Confirm your password" counts against the same account as a failed sign-in.
 */
export function signInLimiters(redis: SessionManagerOptions['redis'], keyPrefix: string, limits: SignInLimits, onLimited: OnLimited): RequestHandler[] {
  const common: Partial<Options> = {
    windowMs: limits.windowSeconds * 1000,
    skipSuccessfulRequests: true, // only failed attempts count: signing in often is not an attack
    // Redis down: let the attempt through to login(), which fails closed (503) on the same Redis.
    passOnStoreError: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res, _next, options) => {
      const reset = (req as AugmentedRequest).rateLimit?.resetTime;
      onLimited(req, res, reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : Math.ceil(options.windowMs / 1000));
    },
  };
  return [
    rateLimit({ ...common, limit: limits.perIp, store: storeOn(redis, `${keyPrefix}rl:ip:`) }),
    rateLimit({
      ...common,
      limit: limits.perUsername,
      store: storeOn(redis, `${keyPrefix}rl:user:`),
      keyGenerator: (req) => usernameOf(req) ?? `ip:${ipKeyGenerator(req.ip ?? '')}`,
    }),
  ];
}
