/**
 * `createSessionStore()`: a Store for express-session (it inherits express-session's own `Store`, so
 * `regenerate`, `load` and `createSession` work) over the package's Redis sessions, with one session per
 * user, the management API, events and metrics of the manager, and `endedReason()`.
 */
import type { EventEmitter } from 'node:events';
import type { RequestHandler } from 'express';
import { SessionError } from '../errors';
import { emitSafely, type SessionEvents } from '../events';
import { createManagement, type RevokeUserOptions, type SessionListing } from '../management';
import { registerMetrics } from '../metrics';
import { createPointerStore } from '../store/express-session';
import { createStore } from '../store/store';
import { parseStoreOptions, type SessionStoreOptions } from './options';
import { createSessions, type SessionEndedCode } from './sessions';

/** express-session's callback style. */
type Callback<T = void> = (err?: unknown, result?: T) => void;

/**
 * What {@link createSessionStore} returns: an express-session `Store` (pass it as `session({ store })`) that
 * is also the manager's event source. Session ids (`sessionId`) here are public ids, never express-session's id.
 */
export interface ExpressSessionStore extends EventEmitter {
  /** Adds a listener for one of the manager's events (see `SessionEvents`); it runs synchronously, and an exception it throws is ignored. */
  on<K extends keyof SessionEvents>(event: K, listener: (event: SessionEvents[K]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Adds a listener that runs for the next `event` only. */
  once<K extends keyof SessionEvents>(event: K, listener: (event: SessionEvents[K]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Removes a listener added with `on` or `once`. */
  off<K extends keyof SessionEvents>(event: K, listener: (event: SessionEvents[K]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  // Sessions are typed loosely (`any`) so the store fits @types/express-session's `Store` and its `SessionData`.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  /** The session's data (`ExpressSessionData`), or null when it is not live. */
  get(sid: string, callback: (err: any, session?: any) => void): void;
  set(sid: string, session: any, callback?: (err?: any) => void): void;
  destroy(sid: string, callback?: (err?: any) => void): void;
  touch(sid: string, session: any, callback?: (err?: any) => void): void;
  /** Every live session's data (their express-session ids are not stored, only hashes of them). */
  all(callback: (err: any, sessions?: any) => void): void;
  length(callback: (err: any, length?: number) => void): void;
  /** Ends every session under the key prefix. */
  clear(callback?: (err?: any) => void): void;
  // express-session's own Store methods, inherited.
  regenerate(req: any, callback: (err?: any) => any): void;
  load(sid: string, callback: (err: any, session?: any) => any): void;
  createSession(req: any, session: any): any;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  /**
   * Middleware, mounted after `session()`: sets `req.sessionEndedCode` to `'SESSION_DISPLACED'`, `'SESSION_REVOKED'`
   * or `'SESSION_EXPIRED'` when the request's cookie named a session that has ended, else null.
   */
  endedReason(): RequestHandler;
  /** The user's live sessions, oldest first. */
  listSessions(userId: string): Promise<SessionListing[]>;
  /** Ends one session of the user; resolves to true if it was live. */
  revokeSession(userId: string, sessionId: string): Promise<boolean>;
  /** Ends all of the user's sessions, or all but `except`; resolves to how many it ended. */
  revokeUser(userId: string, options?: RevokeUserOptions): Promise<number>;
}

/** The request property `endedReason()` reads: set while express-session looks the cookie's session up. */
const ENDED = Symbol('express-single-session ended code');

interface ExpressSessionModule { Store: new () => EventEmitter }

function loadStoreClass(): ExpressSessionModule['Store'] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('express-session') as ExpressSessionModule).Store;
  } catch (cause) {
    throw new SessionError('INVALID_OPTIONS', 'createSessionStore() needs the express-session package: npm install express-session.', { cause });
  }
}

/**
 * Calls back with the promise's outcome (express-session's stores are callback-based), outside the promise
 * chain: an exception the callback throws is the caller's, not an unhandled rejection of ours.
 */
function settle<T>(promise: Promise<T>, callback: Callback<T> | undefined): void {
  promise.then((value) => callback && process.nextTick(callback, null, value), (err: unknown) => callback && process.nextTick(callback, err));
}

/**
 * Creates the Store. Options are validated here, once; a mistake throws `INVALID_OPTIONS`.
 * @example
 * const store = createSessionStore({ redis, maxSessions: 1 });
 * app.use(session({ store, secret, resave: false, saveUninitialized: false }));
 * app.use(store.endedReason());
 */
export function createSessionStore(options: SessionStoreOptions): ExpressSessionStore {
  const Store = loadStoreClass();
  const config = parseStoreOptions(options);
  const store = new Store() as unknown as ExpressSessionStore & Record<string | symbol, unknown>;
  const observe = config.metrics ? registerMetrics(config.metrics.registry, store) : undefined;
  const base = createStore(config, config.redis, observe);
  const sessions = createSessions(config, base, createPointerStore(config, config.redis, observe), store);
  const management = createManagement(base, store, config.userTagOf);

  // express-session assigns `store.generate` in session(), and calls it while `req.sessionID` is still the
  // cookie's id when that session was not found: the moment to note why it is gone.
  let generate: ((req: Record<string | symbol, unknown>) => void) | undefined;
  Object.defineProperty(store, 'generate', {
    configurable: true,
    get: () => (req: Record<string | symbol, unknown>) => {
      if (typeof req.sessionID === 'string') req[ENDED] = sessions.endedOf(req.sessionID) ?? null;
      generate?.(req);
    },
    set: (fn: typeof generate) => {
      generate = fn;
    },
  });

  /** Reports a failure of Redis as the manager does (`store-error`), then hands it on. */
  const reported = <T>(operation: string, promise: Promise<T>): Promise<T> =>
    promise.catch((err: unknown) => {
      if (err instanceof SessionError && err.code === 'SESSION_STORE_UNAVAILABLE') emitSafely(store, 'store-error', { error: err, operation });
      throw err;
    });

  const methods: Partial<ExpressSessionStore> = {
    get: (sid, callback) => settle(reported('get', sessions.get(sid)), callback),
    set: (sid, session, callback) => settle(reported('set', sessions.set(sid, session)), callback),
    destroy: (sid, callback) => settle(reported('destroy', sessions.destroy(sid)), callback),
    touch: (sid, session, callback) => settle(reported('touch', sessions.touch(sid, session)), callback),
    all: (callback) => settle(reported('all', sessions.all()), callback),
    length: (callback) => settle(reported('length', sessions.all().then((found) => found.length)), callback),
    clear: (callback) => settle(reported('clear', sessions.clear()), callback),
    endedReason: () => (req, _res, next) => {
      const request = req as unknown as Record<string | symbol, unknown>;
      request.sessionEndedCode = (request[ENDED] as SessionEndedCode | undefined) ?? null;
      next();
    },
    listSessions: (userId) => reported('listSessions', management.listSessions(userId)),
    revokeSession: (userId, sessionId) => reported('revokeSession', management.revokeSession(userId, sessionId)),
    revokeUser: (userId, options) => reported('revokeUser', management.revokeUser(userId, options)),
  };
  return Object.assign(store, methods);
}
