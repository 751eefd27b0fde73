/**
 * The demo's JSON API, for scripts, tests and the live page: POST /api/login, GET /api/session,
 * GET /api/session/events (Server-Sent Events), POST /api/logout. Every answer that is not a success
 * is `{ error: { code, message } }` with a stable code; bad JSON is a 400, never a 500.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { SessionError, type Session, type SessionManager } from '../lib';
import { checkSignIn } from './accounts';
import { sameOriginWrites } from './security';

/** The session as the API shows it: public facts only, never the token. */
export function sessionJson(session: Session): Record<string, string> {
  return {
    userId: session.userId,
    sessionId: session.sessionId,
    createdAt: session.createdAt.toISOString(),
    lastActiveAt: session.lastActiveAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
  };
}

/** Sends `{ error: { code, message } }`. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error: { code, message } });
}

/** Answers a sign-in refused by the attempt limits: 429 with Retry-After. */
export function tooManyAttemptsJson(_req: Request, res: Response, retryAfter: number): void {
  res.set('Retry-After', String(retryAfter));
  sendError(res, 429, 'TOO_MANY_ATTEMPTS', `Too many failed sign-ins. Try again in ${retryAfter} s.`);
}

/** Builds the /api router around the demo's session manager; `signInLimits` guard POST /api/login. */
export function apiRouter(sessions: SessionManager, signInLimits: RequestHandler[] = []): Router {
  const api = express.Router();
  api.use(sameOriginWrites((_req, res) => sendError(res, 403, 'CROSS_SITE_REQUEST', 'Requests from other sites are refused.')));
  api.use(express.json({ limit: '4kb' }));

  api.post('/login', ...signInLimits, async (req, res, next) => {
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return sendError(res, 400, 'INVALID_REQUEST', 'Send a JSON object { "username", "password" } with Content-Type: application/json.');
    }
    const { username, password } = body as Record<string, unknown>;
    const check = checkSignIn(username, password);
    if ('refusal' in check) return sendError(res, check.refusal.status, check.refusal.code, check.refusal.message);
    try {
      const session = await sessions.login(req, res, check.userId);
      res.set('Cache-Control', 'no-store').json(sessionJson(session));
    } catch (err) {
      next(err);
    }
  });

  api.get('/session', sessions.requireSession(), (req, res) => {
    res.set('Cache-Control', 'no-store').json(sessionJson(req.session!));
  });

  // Server-Sent Events: `session`, then `ended` with the reason the moment the session ends (not activity).
  api.get('/session/events', sessions.liveEvents());

  api.post('/logout', async (req, res, next) => {
    try {
      await sessions.logout(req, res);
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });

  api.use((_req, res) => sendError(res, 404, 'NOT_FOUND', 'No such API route. Try POST /api/login, GET /api/session, GET /api/session/events or POST /api/logout.'));
  api.use(apiErrors);
  return api;
}

/** Body-parser failures by their `type`, as stable codes. */
const BODY_ERRORS: Record<string, { code: string; message: string }> = {
  'entity.parse.failed': { code: 'INVALID_JSON', message: 'The request body is not valid JSON.' },
  'entity.too.large': { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than 4 kB.' },
  'encoding.unsupported': { code: 'UNSUPPORTED_ENCODING', message: 'The request body uses an unsupported content encoding.' },
  'charset.unsupported': { code: 'UNSUPPORTED_CHARSET', message: 'Send the JSON body as UTF-8.' },
};

function apiErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err instanceof SessionError) return sendError(res, err.status, err.code, err.message);
  const { type, status } = err as { type?: string; status?: number };
  const known = type ? BODY_ERRORS[type] : undefined;
  if (known) return sendError(res, status ?? 400, known.code, known.message);
  if (typeof status === 'number' && status >= 400 && status < 500) return sendError(res, status, 'INVALID_REQUEST', 'The request could not be read.');
  console.error('demo: unexpected error in the API:', err);
  sendError(res, 500, 'INTERNAL', 'Something went wrong on the server.');
}
