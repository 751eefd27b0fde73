/**
 * The request path: `resolveSession` attaches `req.session` (or null and a reason) in at most one
 * Redis round trip (read-only for event streams, which are not activity), and `requireSession` turns a
 * missing session into a JSON 401 or 503.
 * Changed session data is written before the response ends (`autoSave`).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CookieJar } from './cookie';
import { DEFAULT_MESSAGES, SessionError, statusOf, type SessionErrorCode } from './errors';
import type { Config } from './options';
import { ActiveSession, changesOf, createSession, observedAt } from './session';
import type { SessionStore } from './store/store';

const AUTO_SAVE = Symbol('express-single-session.autoSave');

/** What the resolver tells the manager about each request (for events and metrics). */
export interface ResolverHooks {
  /** Every request's outcome; `ref`-less codes come from the cookie alone. */
  outcome(code: 'OK' | SessionErrorCode): void;
  /** A store failure the middleware absorbed. */
  storeError(error: SessionError): void;
}

/** Builds the middleware that resolves and refreshes the session of every request. */
export function createResolver(config: Config, store: SessionStore, cookies: CookieJar, hooks: ResolverHooks): RequestHandler {
  const { onError } = config;
  const reject = (req: Request, code: SessionErrorCode, next: NextFunction): void => {
    hooks.outcome(code);
    refuse(req, code, next);
  };

  return function resolveSession(req: Request, res: Response, next: NextFunction): void {
    // Already resolved for this request (the middleware is mounted twice): no second round trip.
    if (req.sessionErrorCode !== undefined) return next();
    let reading;
    try {
      reading = cookies.read(req);
    } catch (err) {
      return next(err);
    }
    if (typeof reading === 'string') {
      if (reading === 'SESSION_INVALID') cookies.clear(req, res);
      return reject(req, reading, next);
    }
    const ref = reading;
    // An event stream (`liveEvents()`, EventSource) is not activity: it reads the session without refreshing it.
    const lookup = isEventStream(req) ? store.peek(ref) : store.resolve(ref);
    lookup.then(
      (result) => {
        if (typeof result === 'string') {
          cookies.clear(req, res);
          return reject(req, result, next);
        }
        let session: ActiveSession;
        try {
          session = createSession(ref, store, config, result);
        } catch {
          cookies.clear(req, res);
          return reject(req, 'SESSION_INVALID', next);
        }
        attach(req, res, session, onError);
        hooks.outcome('OK');
        next();
      },
      (err: SessionError) => {
        onError?.(err);
        hooks.storeError(err);
        reject(req, 'SESSION_STORE_UNAVAILABLE', next);
      },
    );
  };
}

/** True for a request that asks for Server-Sent Events (`Accept: text/event-stream`, as EventSource sends). */
function isEventStream(req: Request): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

function refuse(req: Request, code: SessionErrorCode, next: NextFunction): void {
  req.session = null;
  req.sessionErrorCode = code;
  next();
}

/** Puts a session on the request and makes sure its changes are saved before the response ends. */
export function attach(req: Request, res: Response, session: ActiveSession, onError: Config['onError']): void {
  req.session = session;
  req.sessionErrorCode = null;
  autoSave(req, res, onError);
}

function autoSave(req: Request, res: Response, onError: Config['onError']): void {
  const carrier = res as Response & { [AUTO_SAVE]?: true };
  if (carrier[AUTO_SAVE]) return;
  carrier[AUTO_SAVE] = true;
  const end = res.end;
  res.end = function endAfterSave(this: Response, ...args: unknown[]) {
    res.end = end;
    const session = req.session;
    let pending = false;
    if (session instanceof ActiveSession) {
      try {
        pending = changesOf(session) !== null;
      } catch (err) {
        onError?.(err as SessionError);
      }
    }
    if (!pending) return (end as (...a: unknown[]) => Response).apply(this, args);
    (session as ActiveSession).save().then(
      () => (end as (...a: unknown[]) => Response).apply(this, args),
      (err: SessionError) => {
        onError?.(err);
        (end as (...a: unknown[]) => Response).apply(this, args);
      },
    );
    return this;
  } as Response['end'];
}

/** Options of `requireSession()`. */
export interface RequireSessionOptions {
  /** Answers a request without a session yourself (for example redirect to a login page). Default: JSON 401 or 503. */
  onReject?: (req: Request, res: Response, error: SessionError) => void;
}

/** Builds the guard for protected routes. */
export function createGuard(options: RequireSessionOptions = {}): RequestHandler {
  if (options === null || typeof options !== 'object' || (options.onReject !== undefined && typeof options.onReject !== 'function')) {
    throw new SessionError('INVALID_OPTIONS', 'requireSession() takes `{ onReject?: (req, res, error) => void }`.');
  }
  const { onReject } = options;
  return function requireSession(req: Request, res: Response, next: NextFunction): void {
    if (req.session) return next();
    const code = req.sessionErrorCode;
    if (!code) return next(new SessionError('MISCONFIGURED', 'mount sessions.middleware() before sessions.requireSession().'));
    if (onReject) return onReject(req, res, new SessionError(code));
    answer(res, code);
  };
}

/** Answers a refused request as JSON: the status, `{ error: { code, message } }`, no caching. */
function answer(res: Response, code: SessionErrorCode): void {
  res.status(statusOf(code)).set('Cache-Control', 'no-store');
  if (code === 'SESSION_STORE_UNAVAILABLE') res.set('Retry-After', '1');
  res.json({ error: { code, message: DEFAULT_MESSAGES[code] } });
}

/**
 * Builds the step-up guard: only sessions whose user proved who they are within `maxAgeSeconds`
 * (sign-in or `reauthenticate()`) pass; others get 401 `REAUTHENTICATION_REQUIRED`.
 */
export function createRecentLoginGuard(maxAgeSeconds: number, options: RequireSessionOptions = {}): RequestHandler {
  if (typeof maxAgeSeconds !== 'number' || !Number.isFinite(maxAgeSeconds) || maxAgeSeconds <= 0) {
    throw new SessionError('INVALID_OPTIONS', `requireRecentLogin() needs a positive number of seconds; received ${JSON.stringify(maxAgeSeconds)}.`);
  }
  const maxAgeMs = maxAgeSeconds * 1000;
  const guard = createGuard(options);
  const { onReject } = options;
  return function requireRecentLogin(req: Request, res: Response, next: NextFunction): void {
    guard(req, res, (err?: unknown) => {
      if (err) return next(err);
      const session = req.session!;
      // Both times come from Redis's clock: the age needs no agreement between app and Redis clocks.
      if (observedAt(session as unknown as ActiveSession) - session.authenticatedAt.getTime() <= maxAgeMs) return next();
      if (onReject) return onReject(req, res, new SessionError('REAUTHENTICATION_REQUIRED'));
      answer(res, 'REAUTHENTICATION_REQUIRED');
    });
  };
}
