/**
 * `createDemoApp`: the demo as an Express app, wired with the package's public API exactly as
 * the README shows (cookie-parser with a secret, then `sessions.middleware()`). It starts no
 * server and no Redis, so tests can run it in-process; start.ts does that for `npm run demo`.
 */
import { join } from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import { createSessionManager, type SessionError, type SessionManager, type SessionManagerOptions } from '../lib';
import { apiRouter } from './api';
import { pagesRouter } from './pages';
import { securityHeaders } from './security';

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
  /** How often the signed-in page checks its session, in seconds. @default 5 */
  pollSeconds?: number;
  /** Receives store failures the middleware absorbed (Redis down or slow). @default undefined */
  onError?: (error: SessionError) => void;
}

/** The demo app and the session manager behind it. */
export interface DemoApp {
  app: Express;
  sessions: SessionManager;
}

/** Builds the demo's Express app. Throws `INVALID_OPTIONS` (from the package) for bad timeouts. */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const { redis, secret, idleTimeout = 1800, absoluteTimeout = 28800, keyPrefix, pollSeconds = 5, onError } = options;
  const sessions = createSessionManager({ redis, idleTimeout, absoluteTimeout, keyPrefix, onError });

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders());
  app.use(express.static(join(__dirname, 'public'), { index: false, maxAge: '1h' }));
  app.use(cookieParser(secret));
  app.use(sessions.middleware());
  app.use('/api', apiRouter(sessions));
  app.use(pagesRouter(sessions, { idleTimeout, absoluteTimeout, pollSeconds }));
  return { app, sessions };
}
