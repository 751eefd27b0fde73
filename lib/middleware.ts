/**
 * The request path: `resolveSession` attaches `req.session` (or null and a reason) in at most one
 * Redis round trip, and `requireSession` turns a missing session into a JSON 401 or 503.
 * Changed session data is written before the response ends (`autoSave`).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CookieJar } from './cookie';
import { debug, startTimer } from './debug';
import { SessionError, type SessionErrorCode } from './errors';
import type { UnsavedReporter } from './events';
import type { Config } from './options';
import { checkKeys } from './parse-options';
import { spend } from './request-budget';
import { answer } from './respond';
import { shown } from './shown';
import { ActiveSession, changesOf, createSession, observedAt, type Session } from './session';
import type { ResolveResult, SessionStore } from './store/store';
import type { SessionRef } from './token';

/**
 * Responses whose end already saves the session. A set beside them, not a mark on them: adding a property to an
 * Express request or response (whose prototype Express swapped) costs microseconds, a WeakSet entry far less.
 */
const AUTO_SAVED = new WeakSet<Response>();

/** What the resolver tells the manager about each request (for events and metrics). */
export interface ResolverHooks {
  /** Every request's outcome. */
  outcome(code: 'OK' | SessionErrorCode): void;
  /** A store failure the middleware absorbed. */
  storeError(error: SessionError): void;
  /** Where changes the automatic save could not save are reported. */
  readonly unsaved: UnsavedReporter;
}

/**
 * How long after `reauthenticate()` a request with the replaced cookie is told to try again (it was on its way
 * during the rotation, and the browser holds the newer cookie); after it, to sign in again.
 */
export const ROTATION_GRACE_MS = 30_000;

/** Builds the middleware that resolves and refreshes the session of every request. */
export function createResolver(config: Config, store: SessionStore, cookies: CookieJar, hooks: ResolverHooks): RequestHandler {
  const { onError, requestProperty } = config;
  const reject = (req: Request, code: SessionErrorCode, next: NextFunction, property: string): void => {
    hooks.outcome(code);
    refuse(req, code, next, property);
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
      debug('resolve', `${reading} (cookie)`);
      if (reading === 'SESSION_INVALID') cookies.clear(req, res);
      return reject(req, reading, next, requestProperty);
    }
    const ref = reading;
    const started = startTimer();
    // An event stream (`liveEvents()`, EventSource) is not activity: it reads the session without refreshing it.
    const lookup = isEventStream(req) ? store.peek(ref) : store.resolve(ref);
    // The lookup's wait counts against the request's one store deadline (request-budget.ts).
    const sent = performance.now();
    lookup.then(
      (result) => {
        spend(req, performance.now() - sent);
        resolved(req, res, next, ref, started, result);
      },
      (err: SessionError) => {
        spend(req, performance.now() - sent);
        debug('resolve', `SESSION_STORE_UNAVAILABLE: ${String(err.cause ?? err.message)}`, started);
        onError?.(err);
        hooks.storeError(err);
        reject(req, 'SESSION_STORE_UNAVAILABLE', next, requestProperty);
      },
    );
  };

  /**
   * A token `reauthenticate()` replaced. Its cookie is never cleared: the response that rotated it set the newer
   * cookie, and a clearing answer to a request sent before could land after it and sign the browser out. Within
   * ROTATION_GRACE_MS of the rotation the request was on its way during it: SESSION_ROTATED, "try again" (the
   * browser holds the newer cookie). Later, the client never got the newer cookie and retrying cannot help:
   * SESSION_EXPIRED, "sign in again" (its sign-in replaces the stale cookie).
   */
  function rotated(req: Request, next: NextFunction, ref: SessionRef, started: number): void {
    const sent = performance.now();
    const answer = (code: 'SESSION_ROTATED' | 'SESSION_EXPIRED'): void => {
      spend(req, performance.now() - sent);
      debug('resolve', code === 'SESSION_ROTATED' ? code : 'SESSION_EXPIRED (rotated token past its grace)', started);
      reject(req, code, next, requestProperty);
    };
    store.rotatedFor(ref).then(
      (ago) => answer(ago !== null && ago > ROTATION_GRACE_MS ? 'SESSION_EXPIRED' : 'SESSION_ROTATED'),
      () => answer('SESSION_ROTATED'),
    );
  }

  /** Attaches what the store found, or refuses the request with why there is no session. */
  function resolved(req: Request, res: Response, next: NextFunction, ref: SessionRef, started: number, result: ResolveResult): void {
    if (result === 'SESSION_ROTATED') return rotated(req, next, ref, started);
    if (typeof result === 'string') {
      debug('resolve', result, started);
      cookies.clear(req, res);
      return reject(req, result, next, requestProperty);
    }
    let session: ActiveSession;
    try {
      session = createSession(ref, store, config, result);
    } catch {
      debug('resolve', 'SESSION_INVALID (stored data is not JSON)', started);
      cookies.clear(req, res);
      return reject(req, 'SESSION_INVALID', next, requestProperty);
    }
    debug('resolve', `ok session ${session.sessionId}`, started);
    attach(req, res, session, hooks.unsaved, requestProperty);
    hooks.outcome('OK');
    next();
  }
}

/** True for a request that asks for Server-Sent Events (`Accept: text/event-stream`, as EventSource sends). */
function isEventStream(req: Request): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

function refuse(req: Request, code: SessionErrorCode, next: NextFunction, property: string): void {
  setSessionOn(req, property, null);
  req.sessionErrorCode = code;
  next();
}

/** Puts a session on the request and makes sure its changes are saved before the response ends. */
export function attach(req: Request, res: Response, session: ActiveSession, unsaved: UnsavedReporter, property = 'session'): void {
  setSessionOn(req, property, session);
  req.sessionErrorCode = null;
  autoSave(req, res, unsaved, property);
}

/** This package's session on the request, under the manager's `requestProperty`; null when there is none. */
export function sessionOn(req: Request, property = 'session'): ActiveSession | null {
  const value = (req as unknown as Record<string, unknown>)[property];
  return value instanceof ActiveSession ? value : null;
}

/** Puts the session (or null) on the request under the manager's `requestProperty`. */
export function setSessionOn(req: Request, property: string, session: ActiveSession | null): void {
  (req as unknown as Record<string, unknown>)[property] = session;
}

function autoSave(req: Request, res: Response, unsaved: UnsavedReporter, property: string): void {
  if (AUTO_SAVED.has(res)) return;
  AUTO_SAVED.add(res);
  const end = res.end;
  res.end = function endAfterSave(this: Response, ...args: unknown[]) {
    res.end = end;
    const session = sessionOn(req, property);
    // Once the response is out, watch for later changes, unless this session's data was already reported.
    const finish = (watch: boolean): Response => {
      const result = (end as (...a: unknown[]) => Response).apply(this, args);
      if (watch && session instanceof ActiveSession && unsaved.wanted()) setImmediate(reportLateChanges, session, unsaved);
      return result;
    };
    let pending = false;
    if (session instanceof ActiveSession) {
      try {
        pending = changesOf(session) !== null;
      } catch (err) {
        unsaved.report(err as SessionError, session);
        return finish(false);
      }
    }
    if (!pending) return finish(true);
    const started = startTimer();
    (session as ActiveSession).save().then(() => {
      debug('save', `ok session ${(session as ActiveSession).sessionId}`, started);
      finish(true);
    }, (err: SessionError) => {
      debug('save', `${err.code}: changes not saved, session ${(session as ActiveSession).sessionId}`, started);
      unsaved.report(notSaved(err), session as ActiveSession);
      finish(false);
    });
    return this;
  } as Response['end'];
}

/** A refused save, said as what it means for the app: its changes are lost. The code stays the outcome's. */
function notSaved(err: SessionError): SessionError {
  const reasons: Partial<Record<SessionError['code'], string>> = {
    SESSION_EXPIRED: 'the session ended (expired or signed out)',
    SESSION_DISPLACED: 'a newer sign-in of the user displaced the session',
    SESSION_REVOKED: 'the session was revoked',
    SESSION_ROTATED: 'reauthenticate() in another request moved the session to a new token',
  };
  const why = reasons[err.code];
  if (!why) return err;
  return new SessionError(err.code, `changes to req.session were not saved: ${why} during the request.`, { cause: err });
}

/**
 * Reports changes made to the session after its response ended (they can no longer be saved),
 * checked once the callbacks queued by the end of the response have run.
 */
function reportLateChanges(session: ActiveSession, unsaved: UnsavedReporter): void {
  let changes;
  try {
    changes = changesOf(session);
  } catch (err) {
    return unsaved.report(err as SessionError, session);
  }
  if (!changes) return;
  const fields = [...changes.set.map(([name]) => name), ...changes.remove].join(', ');
  unsaved.report(new SessionError('HEADERS_SENT', `req.session was changed after the response ended (${fields}); the change was not saved. `
    + 'Change the session before sending the response, or await req.session.save() before it.'), session);
}

/** Options of `requireSession()`. */
export interface RequireSessionOptions {
  /** Answers a request without a session yourself (for example redirect to a login page). Default: JSON 401 or 503. */
  onReject?: (req: Request, res: Response, error: SessionError) => void;
}

/** Builds the guard for protected routes. */
export function createGuard(options: RequireSessionOptions = {}, property = 'session'): RequestHandler {
  if (options === null || typeof options !== 'object' || (options.onReject !== undefined && typeof options.onReject !== 'function')) {
    throw new SessionError('INVALID_OPTIONS', 'requireSession() takes `{ onReject?: (req, res, error) => void }`.');
  }
  checkKeys(options, ['onReject'], '', 'requireSession() ');
  const { onReject } = options;
  return function requireSession(req: Request, res: Response, next: NextFunction): void {
    if (sessionOn(req, property)) return next();
    const code = req.sessionErrorCode;
    if (!code) return next(new SessionError('MISCONFIGURED', 'mount sessions.middleware() before sessions.requireSession().'));
    if (onReject) return onReject(req, res, new SessionError(code));
    answer(res, code);
  };
}

/** The request's session for a handler behind `requireSession()`; throws `MISCONFIGURED` when there is none. */
export function sessionOf(req: Request, property = 'session'): Session {
  const session = sessionOn(req, property);
  if (session) return session as unknown as Session;
  throw new SessionError('MISCONFIGURED', 'sessionOf(req) found no session on this request: put sessions.requireSession() before the handler (and sessions.middleware() before both).');
}

/**
 * Builds the step-up guard: only sessions whose user proved who they are within `maxAgeSeconds`
 * (sign-in or `reauthenticate()`) pass; others get 401 `REAUTHENTICATION_REQUIRED`.
 */
export function createRecentLoginGuard(maxAgeSeconds: number, options: RequireSessionOptions = {}, property = 'session'): RequestHandler {
  if (typeof maxAgeSeconds !== 'number' || !Number.isFinite(maxAgeSeconds) || maxAgeSeconds <= 0) {
    throw new SessionError('INVALID_OPTIONS', `requireRecentLogin() needs a positive number of seconds; received ${shown(maxAgeSeconds)}.`);
  }
  const maxAgeMs = maxAgeSeconds * 1000;
  const guard = createGuard(options, property);
  const { onReject } = options;
  return function requireRecentLogin(req: Request, res: Response, next: NextFunction): void {
    guard(req, res, (err?: unknown) => {
      if (err) return next(err);
      const session = sessionOn(req, property)!;
      // Both times come from Redis's clock: the age needs no agreement between app and Redis clocks.
      if (observedAt(session) - session.authenticatedAt.getTime() <= maxAgeMs) return next();
      if (onReject) return onReject(req, res, new SessionError('REAUTHENTICATION_REQUIRED'));
      answer(res, 'REAUTHENTICATION_REQUIRED');
    });
  };
}
