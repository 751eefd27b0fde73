/**
 * `createSessionManager`: validates options once and returns the middleware, the guard and the
 * login / logout helpers, all sharing one store and one cookie configuration.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { createCookieJar } from './cookie';
import { debug, startTimer } from './debug';
import { SessionError } from './errors';
import { attach, createGuard, createResolver, sessionOf, sessionOn, setSessionOn, type RequireSessionOptions } from './middleware';
import { parseOptions, type SessionManagerOptions } from './options';
import { createErrorHandler } from './respond';
import { createSession, encodeData, refOf, type Session, type SessionData } from './session';
import { createStore } from './store';
import { issueToken, type SessionRef } from './token';

/** What {@link createSessionManager} returns. */
export interface SessionManager {
  /** Resolves and refreshes the session of every request and attaches `req.session`; never rejects a request. */
  middleware(): RequestHandler;
  /** Lets only requests with a live session through; others get JSON 401 (or 503 when Redis is unavailable). */
  requireSession(options?: RequireSessionOptions): RequestHandler;
  /**
   * Express error middleware, mounted after the routes: answers any `SessionError` (a rejected
   * `login()`, `MISCONFIGURED`, ...) exactly as `requireSession()` does, and passes every other error on.
   */
  errorHandler(): ErrorRequestHandler;
  /**
   * The request's session, typed non-null, for handlers behind `requireSession()`:
   * `const session = sessions.sessionOf(req)`. Throws `MISCONFIGURED` when the request has no
   * session (the handler is not behind `requireSession()`). Works the same with `express-single-session/core`.
   */
  sessionOf(req: Request): Session;
  /**
   * Signs `userId` in: a new session with a new secret token becomes the user's only one, any
   * previous session is displaced at once, the cookie is set and `req.session` is the new session.
   * Rejects with `INVALID_ARGUMENT`, `HEADERS_SENT`, `MISCONFIGURED` or `SESSION_STORE_UNAVAILABLE`.
   */
  login(req: Request, res: Response, userId: string, data?: Partial<SessionData>): Promise<Session>;
  /**
   * Signs the request's session out: deletes it and the user index in Redis (unless a newer login
   * already replaced it), clears the cookie and sets `req.session` to null.
   */
  logout(req: Request, res: Response): Promise<void>;
  /** Ends whatever session `userId` has, from anywhere (an admin action, a password change). True if one existed. */
  revokeUser(userId: string): Promise<boolean>;
}

const MAX_USER_ID = 1024;

/**
 * Creates a session manager. Options are validated here, once; a mistake throws `INVALID_OPTIONS`
 * with a message that says what to fix.
 * @example
 * const sessions = createSessionManager({ redis: new Redis() });
 * app.use(cookieParser(process.env.SESSION_SECRET));
 * app.use(sessions.middleware());
 * app.get('/me', sessions.requireSession(), (req, res) => res.json({ userId: sessions.sessionOf(req).userId }));
 */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const config = parseOptions(options);
  const store = createStore(config);
  const cookies = createCookieJar(config.cookie);
  const resolver = createResolver(config, store, cookies);

  return {
    middleware: () => resolver,
    requireSession: (guardOptions) => createGuard(guardOptions, config.requestProperty),
    errorHandler: () => createErrorHandler(),
    sessionOf: (req) => sessionOf(req, config.requestProperty),

    async login(req, res, userId, data = {}) {
      if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID) {
        throw new SessionError('INVALID_ARGUMENT', `login() needs a user id: a non-empty string of at most ${MAX_USER_ID} characters.`);
      }
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        throw new SessionError('INVALID_ARGUMENT', 'login() data must be a plain object of JSON values.');
      }
      const entries = encodeData(data);
      refuseIfSent(res, 'login');
      const { cookieValue, ref } = issueToken(userId);
      const sessionId = randomUUID();
      // Switching users in one browser also ends the session the request held: its cookie is about to be replaced.
      const current = sessionOn(req, config.requestProperty);
      const previous = current ? refOf(current) : null;
      const endPrevious = previous && previous.userTag !== ref.userTag ? store.logout(previous) : null;
      const started = startTimer();
      const [stored] = await Promise.all([store.login(ref, userId, sessionId, entries), endPrevious]);
      debug('login', `ok session ${sessionId}`, started);
      refuseIfSent(res, 'login');
      cookies.set(req, res, cookieValue, stored.absoluteDeadline);
      const session = createSession(ref, store, config.idleMs, {
        userId,
        sessionId,
        createdAt: stored.createdAt,
        lastActiveAt: stored.createdAt,
        absoluteDeadline: stored.absoluteDeadline,
        data: new Map(entries),
      });
      attach(req, res, session, config.onError, config.requestProperty);
      return session as unknown as Session;
    },

    async logout(req, res) {
      refuseIfSent(res, 'logout');
      let ref: SessionRef | null = null;
      const current = sessionOn(req, config.requestProperty);
      if (current) ref = refOf(current);
      else {
        const reading = cookies.read(req);
        if (typeof reading !== 'string') ref = reading;
      }
      cookies.clear(req, res);
      setSessionOn(req, config.requestProperty, null);
      req.sessionErrorCode = 'SESSION_MISSING';
      if (!ref) return debug('logout', 'no session');
      const started = startTimer();
      await store.logout(ref);
      debug('logout', 'ok', started);
    },

    async revokeUser(userId) {
      if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID) {
        throw new SessionError('INVALID_ARGUMENT', 'revokeUser() needs a user id: a non-empty string.');
      }
      return store.revokeUser(userId);
    },
  };
}

function refuseIfSent(res: Response, helper: string): void {
  if (res.headersSent) {
    throw new SessionError('HEADERS_SENT', `${helper}() must run before the response is sent: it sets the session cookie.`);
  }
}
