/**
 * A small Express app wired exactly as the README shows, used by the behaviour tests.
 */
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import { createSessionManager, type SessionManager, type SessionManagerOptions } from '../../lib';
import type { AppRedis } from './targets';

/** The cookie-parser secret the test apps sign with. */
export const TEST_SECRET = 'test-secret-for-cookie-signing-0123456789';

/** Extra routes a test file mounts after the middleware. */
export type ExtraRoutes = (app: Express, sessions: SessionManager) => void;

/** Builds the test app around a manager made from `options`. */
export function buildApp(
  redis: AppRedis,
  options: Partial<SessionManagerOptions> = {},
  routes?: ExtraRoutes,
): { app: Express; sessions: SessionManager } {
  const sessions = createSessionManager({ redis, ...options });
  const app = express();
  app.use(cookieParser(TEST_SECRET));
  app.use(express.json());
  app.use(sessions.middleware());

  app.post('/login', async (req, res, next) => {
    try {
      const session = await sessions.login(req, res, req.body.userId, req.body.data);
      res.json(session);
    } catch (err) {
      next(err);
    }
  });
  app.get('/me', sessions.requireSession(), (req, res) => {
    res.json(req.session);
  });
  app.post('/data', sessions.requireSession(), (req, res) => {
    Object.assign(req.session!, req.body);
    res.json(req.session);
  });
  app.post('/logout', async (req, res, next) => {
    try {
      await sessions.logout(req, res);
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });
  app.get('/public', (req, res) => {
    res.json({ signedIn: req.session !== null, code: req.sessionErrorCode });
  });
  app.get('/events', sessions.liveEvents());
  app.post('/revoke', async (req, res, next) => {
    try {
      res.json({ ended: await sessions.revokeUser(req.body.userId) });
    } catch (err) {
      next(err);
    }
  });
  routes?.(app, sessions);
  app.use((err: { status?: number; code?: string; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: { code: err.code ?? 'INTERNAL', message: err.message } });
  });
  return { app, sessions };
}

/** The session data the tests use, declared the way apps declare theirs. */
declare module '../../lib' {
  interface SessionData {
    theme: string;
    cart: string[];
    visits: number;
    a: number | null;
    b: number;
    note: string;
    left: string;
    right: string;
    owner: string;
    extra: number;
  }
}
