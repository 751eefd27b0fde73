/**
 * `createDemoApp`: the demo as an Express app, wired with the package's public API exactly as
 * the README shows (cookie-parser with a secret, then `sessions.middleware()`). It starts no
 * server and no Redis, so tests can run it in-process; start.ts does that for `npm run demo`.
 */
import { join } from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import { Registry } from 'prom-client';
import { createSessionManager, type SessionError, type SessionManager, type SessionManagerOptions } from '../lib';
import { apiRouter, tooManyAttemptsJson } from './api';
import { pagesRouter, tooManyAttemptsPage } from './pages';
import { tooManyConfirmations } from './step-up';
import { securityHeaders } from './security';
import { DEFAULT_SIGN_IN_LIMITS, signInLimiters, type OnLimited, type SignInLimits } from './sign-in-limits';

/** What {@link createDemoApp} needs. */
export interface DemoAppOptions {
  /** The Redis client the sessions live in (ioredis or node-redis); the caller owns it. */
  redis: SessionManagerOptions['redis'];
  /** cookie-parser secret that signs the session cookie. */
  secret: string;
  /** Idle timeout in seconds. @default 1800 */
  idleTimeout?: number;
  /** Absolute lifetime in seconds, or false for none. @default 28800 */
  absoluteTimeout?: number | false;
  /** Redis key prefix, so tests can share a Redis. @default 'ess:' */
  keyPrefix?: string;
  /** How often the signed-in page checks its session when EventSource is unavailable (a slow fallback poll), in seconds. @default 30 */
  pollSeconds?: number;
  /** Live sessions one user may have. @default 1 */
  maxSessions?: number;
  /** What a sign-in past `maxSessions` does. @default 'displace-oldest' */
  onLimit?: 'displace-oldest' | 'reject-new';
  /** How recent a sign-in or password confirmation must be for "Change password", in seconds. @default 300 */
  recentLoginSeconds?: number;
  /** Receives store failures the middleware absorbed (Redis down or slow). @default undefined */
  onError?: (error: SessionError) => void;
  /** Failed sign-ins allowed per IP and per username, counted in the same Redis. @default DEFAULT_SIGN_IN_LIMITS */
  signInLimits?: SignInLimits;
}

/** The demo app and the session manager behind it. */
export interface DemoApp {
  app: Express;
  sessions: SessionManager;
  /** The prom-client registry behind GET /metrics. */
  registry: Registry;
}

/** Builds the demo's Express app. Throws `INVALID_OPTIONS` (from the package) for bad timeouts. */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const { redis, secret, idleTimeout = 1800, absoluteTimeout = 28800, keyPrefix, pollSeconds = 30, onError, signInLimits = DEFAULT_SIGN_IN_LIMITS } = options;
  const { maxSessions = 1, onLimit = 'displace-oldest', recentLoginSeconds = 300 } = options;
  const registry = new Registry();
  const sessions = createSessionManager({ redis, idleTimeout, absoluteTimeout, keyPrefix, onError, maxSessions, onLimit, metrics: { registry } });

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders());
  app.use(express.static(join(__dirname, 'public'), { index: false, maxAge: '1h' }));
  app.use(cookieParser(secret));
  app.use(sessions.middleware());
  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('Cache-Control', 'no-store').type(registry.contentType).send(await registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  const limiters = (onLimited: OnLimited) => signInLimiters(redis, keyPrefix ?? 'ess:', signInLimits, onLimited);
  app.use('/api', apiRouter(sessions, limiters(tooManyAttemptsJson)));
  const settings = { idleTimeout, absoluteTimeout, pollSeconds, maxSessions, onLimit, recentLoginSeconds };
  app.use(pagesRouter(sessions, settings, limiters(tooManyAttemptsPage), limiters(tooManyConfirmations)));
  return { app, sessions, registry };
}
