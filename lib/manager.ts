/**
 * `createSessionManager`: validates options once and wires the parts (store, cookie, middleware,
 * sign-in helpers, management, live notices, events, metrics) into the manager an app uses. The manager is an
 * `EventEmitter`; see `SessionEvents` for what it emits.
 */
import { EventEmitter } from 'node:events';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { createCookieJar } from './cookie';
import { createWarn } from './debug';
import { SessionError } from './errors';
import { createUnsavedReporter, emitSafely, type SessionEventSource } from './events';
import { createLiveEvents, type LiveEventsOptions } from './live/events-handler';
import { createLiveRegistry } from './live/registry';
import { createPassportSupport } from './passport';
import { createManagement, type RevokeUserOptions, type ScannedSession, type SessionListing } from './management';
import { registerMetrics } from './metrics';
import { createGuard, createRecentLoginGuard, createResolver, sessionOf, type RequireSessionOptions } from './middleware';
import type { SessionManagerOptions } from './options';
import { parseOptions } from './parse-options';
import { createErrorHandler } from './respond';
import type { Session, SessionData } from './session';
import { createSignIn } from './sign-in';
import { createStore } from './store/store';

/** What {@link createSessionManager} returns. It is also a Node.js `EventEmitter` (see {@link SessionEventSource}). */
export interface SessionManager extends SessionEventSource {
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
   * Lets only sessions whose user proved who they are within `maxAgeSeconds` (sign-in or `reauthenticate()`)
   * through; others get 401 `REAUTHENTICATION_REQUIRED` (requests without a session get what `requireSession()` gives).
   */
  requireRecentLogin(maxAgeSeconds: number, options?: RequireSessionOptions): RequestHandler;
  /**
   * Signs `userId` in: a new session with a new secret token, under the `maxSessions` / `onLimit` policy
   * (the oldest session is displaced at once, or the sign-in is refused with `SESSION_LIMIT_REACHED`);
   * the cookie is set and `req.session` is the new session. Rejects with `INVALID_ARGUMENT`,
   * `SESSION_LIMIT_REACHED`, `HEADERS_SENT`, `MISCONFIGURED` or `SESSION_STORE_UNAVAILABLE`.
   */
  login(req: Request, res: Response, userId: string, data?: Partial<SessionData>): Promise<Session>;
  /**
   * Signs the request's session out: ends it in Redis first, then clears the cookie and sets `req.session`
   * to null. On `SESSION_STORE_UNAVAILABLE` nothing changed (the cookie is kept: tell the user to retry).
   * If the response had started, the session is still ended and the call rejects with `HEADERS_SENT`.
   */
  logout(req: Request, res: Response): Promise<void>;
  /**
   * After the app checked the user's password again: gives the session a new token (a new cookie), keeps its
   * `sessionId` and data, and sets `authenticatedAt` to now. For `requireRecentLogin()`.
   */
  reauthenticate(req: Request, res: Response): Promise<Session>;
  /** The user's live sessions, oldest first. Never a token or its hash. */
  listSessions(userId: string): Promise<SessionListing[]>;
  /** Ends one session of the user; resolves to true if it was live. Its next request gets `SESSION_REVOKED`. */
  revokeSession(userId: string, sessionId: string): Promise<boolean>;
  /** Ends all of the user's sessions, or all but `except`; resolves to how many it ended. */
  revokeUser(userId: string, options?: RevokeUserOptions): Promise<number>;
  /** Every live session of every user, for an admin screen: SCAN on every master, never blocking Redis. */
  scanSessions(): AsyncIterableIterator<ScannedSession>;
  /**
   * A Server-Sent Events handler for the request's own session; mount it behind `middleware()`, e.g. at
   * `GET /api/session/events`. It sends `event: session` (`sessionId`, `expiresAt`) on connect, a comment
   * heartbeat, and `event: ended` with `{ code }` (`SESSION_DISPLACED`, `SESSION_REVOKED`, `SESSION_EXPIRED`
   * or `SESSION_LOGGED_OUT`) the moment the session ends, from whichever app process, then closes. The stream
   * is not activity: it never refreshes the idle timeout. Without a live session it answers 401 JSON.
   * Throws `INVALID_OPTIONS` for options it cannot use.
   */
  liveEvents(options?: LiveEventsOptions): RequestHandler;
  /**
   * What Passport 0.6 and 0.7 need from `req.session`, without express-session; mount it after `middleware()`
   * and before `passport.session()`. `req.login()` signs in through `login()` with the serialized user as the
   * user id (a new session and cookie), `req.logout()` ends the session through `logout()`, and
   * `passport.session()` deserializes `req.user` from a signed-in session's user id. On a request without a live
   * session `req.session` is an empty object (Passport requires one); guard routes with `requireSession()`.
   * Throws `INVALID_OPTIONS` unless `requestProperty` is `'session'`.
   */
  passport(): RequestHandler;
}

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
  const events = new EventEmitter();
  const observe = config.metrics ? registerMetrics(config.metrics.registry, events) : undefined;
  const live = createLiveRegistry(config.redis, config.keyPrefix, events, config.maxStreamsPerUser);
  const baseStore = createStore(config, config.redis, observe);
  // Sessions this process ends are told apart from ends announced by other processes (`remote: true`).
  const store: typeof baseStore = {
    ...baseStore,
    login: (ref, session, budgetMs) => live.endingHere(ref.userTag, () => baseStore.login(ref, session, budgetMs), (r) => (typeof r === 'string' ? [] : r.displaced)),
    revoke: (userTag, mode, sessionId) => live.endingHere(userTag, () => baseStore.revoke(userTag, mode, sessionId), (ended) => ended),
  };
  const warn = createWarn();
  const cookies = createCookieJar(config.cookie, warn);
  const storeError = (error: SessionError, operation: string): void => emitSafely(events, 'store-error', { error, operation });
  const unsaved = createUnsavedReporter(config.onError, events, warn);
  const resolver = createResolver(config, store, cookies, {
    outcome(outcome) {
      emitSafely(events, 'request', { outcome });
      if (outcome === 'SESSION_EXPIRED') emitSafely(events, 'expired', { userId: null, sessionId: null });
    },
    storeError: (error) => storeError(error, 'resolve'),
    unsaved,
  });
  const signIn = createSignIn({ config, store, cookies, events, unsaved });
  const management = createManagement(store, events, config.userTagOf);

  /** Reports store failures of a public method as `store-error` events, then rejects as before. */
  const reported = <A extends unknown[], R>(operation: string, method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await method(...args);
      } catch (err) {
        if (err instanceof SessionError && err.code === 'SESSION_STORE_UNAVAILABLE') storeError(err, operation);
        throw err;
      }
    };

  const methods: Omit<SessionManager, keyof SessionEventSource> = {
    middleware: () => resolver,
    requireSession: (guardOptions) => createGuard(guardOptions, config.requestProperty),
    requireRecentLogin: (maxAgeSeconds, guardOptions) => createRecentLoginGuard(maxAgeSeconds, guardOptions, config.requestProperty),
    errorHandler: () => createErrorHandler(),
    sessionOf: (req) => sessionOf(req, config.requestProperty),
    login: reported('login', signIn.login),
    logout: reported('logout', signIn.logout),
    reauthenticate: reported('reauthenticate', signIn.reauthenticate),
    listSessions: reported('listSessions', management.listSessions),
    revokeSession: reported('revokeSession', management.revokeSession),
    revokeUser: reported('revokeUser', management.revokeUser),
    scanSessions: management.scanSessions,
    passport: () => createPassportSupport({ login: methods.login, logout: methods.logout }, config.requestProperty),
    liveEvents: (liveOptions) => createLiveEvents(live, store, Math.max(config.storeTimeoutMs, 1000), liveOptions, config.requestProperty),
  };
  return Object.assign(events, methods) as unknown as SessionManager;
}
