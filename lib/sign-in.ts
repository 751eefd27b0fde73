/**
 * The request-bound helpers that change which session a browser holds: `login` (under the
 * `maxSessions` policy), `logout` and `reauthenticate`. Each ends or creates sessions in Redis first
 * and only then touches the cookie.
 */
import type { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import type { CookieJar } from './cookie';
import { SessionError } from './errors';
import { emitSafely, type UnsavedReporter } from './events';
import { debug, startTimer } from './debug';
import { attach, sessionOn, setSessionOn } from './middleware';
import type { Config } from './options';
import { withinBudget } from './request-budget';
import { checkMaxSessions } from './parse-options';
import { createSession, encodeData, rebind, refOf, type Session, type SessionData } from './session';
import type { SessionStore } from './store/store';
import { issueToken, type SessionRef } from './token';
import { checkUserId } from './user-id';

const MAX_USER_AGENT = 256;

/** What the helpers share with the manager. */
export interface SignInContext {
  readonly config: Config;
  readonly store: SessionStore;
  readonly cookies: CookieJar;
  readonly events: EventEmitter;
  /** Where changes the automatic save could not save are reported. */
  readonly unsaved: UnsavedReporter;
}

/** The sign-in, sign-out and step-up helpers of one manager. */
export function createSignIn({ config, store, cookies, events, unsaved }: SignInContext) {
  /** A store call of this request, within what is left of its storeTimeoutMs (request-budget.ts). */
  const budgeted = <T>(req: Request, call: (budgetMs: number) => Promise<T>): Promise<T> => withinBudget(req, config.storeTimeoutMs, call);

  const limitFor = (userId: string): number => {
    const { maxSessions } = config;
    if (typeof maxSessions === 'number') return maxSessions;
    return checkMaxSessions(maxSessions(userId), (message) => {
      throw new SessionError('INVALID_OPTIONS', `maxSessions(userId) returned a value it cannot use: ${message}`);
    });
  };

  return {
    async login(req: Request, res: Response, userId: string, data: Partial<SessionData> = {}): Promise<Session> {
      checkUserId(userId, 'login');
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        throw new SessionError('INVALID_ARGUMENT', 'login() data must be a plain object of JSON values.');
      }
      const entries = encodeData(data, config);
      refuseIfSent(res, 'login');
      const maxSessions = limitFor(userId);
      const { cookieValue, ref } = issueToken(userId, config.userTagOf);
      // The browser's current session ends with this sign-in: its cookie is about to be replaced.
      const previous = sessionOn(req, config.requestProperty);
      let previousRef = previous ? refOf(previous) : null;
      // Redis did not answer for the cookie's session: it may still be live, and it ends like a resolved one.
      if (!previousRef && req.sessionErrorCode === 'SESSION_STORE_UNAVAILABLE') {
        const reading = cookies.read(req);
        if (typeof reading !== 'string') previousRef = reading;
      }
      const sameUser = previousRef !== null && previousRef.userTag === ref.userTag;
      const userAgent = config.recordClient ? (req.get('user-agent') ?? '').slice(0, MAX_USER_AGENT) || null : null;
      const ip = config.recordClient ? req.ip ?? null : null;
      // Another user's session on this browser ends first, in its own slot: if the sign-in then fails, the
      // browser is signed out (its cookie cleared), never holding one session while another lives unheld.
      // The same user's previous session ends inside the sign-in script, atomically with it.
      if (previousRef && !sameUser) {
        if (await budgeted(req, (budget) => store.logout(previousRef!, previous?.sessionId, budget)) === true) emitSafely(events, 'logout', { userId: previous?.userId ?? null, sessionId: previous?.sessionId ?? null });
        setSessionOn(req, config.requestProperty, null);
        req.sessionErrorCode = 'SESSION_MISSING';
      }
      const started = startTimer();
      let stored: Awaited<ReturnType<SessionStore['login']>>;
      try {
        stored = await budgeted(req, (budget) => store.login(ref, {
          userId, maxSessions, onLimit: config.onLimit, previousTokenHash: sameUser ? previousRef!.tokenHash : null, userAgent, ip, data: entries,
        }, budget));
      } catch (err) {
        if (previousRef && !sameUser && !res.headersSent) cookies.clear(req, res);
        throw err;
      }
      debug('login', typeof stored === 'string' ? stored : `ok session ${stored.sessionId}`, started);
      if (stored === 'SESSION_LIMIT_REACHED') {
        if (previousRef && !sameUser && !res.headersSent) cookies.clear(req, res);
        emitSafely(events, 'limit', { userId, sessionId: null });
        throw new SessionError('SESSION_LIMIT_REACHED');
      }
      const { sessionId } = stored;
      if (previous && sameUser) emitSafely(events, 'logout', { userId: previous.userId, sessionId: previous.sessionId });
      emitSafely(events, 'login', { userId, sessionId });
      for (const displaced of stored.displaced) emitSafely(events, 'displaced', { userId, sessionId: displaced });
      if (res.headersSent) await store.abandon(ref); // its cookie cannot be set: do not leave it counting against the limit
      refuseIfSent(res, 'login');
      cookies.set(req, res, cookieValue, stored.absoluteDeadline);
      const session = createSession(ref, store, config, {
        userId,
        sessionId,
        createdAt: stored.createdAt,
        lastActiveAt: stored.createdAt,
        observedAt: stored.createdAt,
        authenticatedAt: stored.createdAt,
        absoluteDeadline: stored.absoluteDeadline,
        data: new Map(entries),
      });
      attach(req, res, session, unsaved, config.requestProperty);
      return session as unknown as Session;
    },

    async logout(req: Request, res: Response): Promise<void> {
      let ref: SessionRef | null = null;
      const session = sessionOn(req, config.requestProperty);
      if (session) ref = refOf(session);
      else {
        const reading = cookies.read(req);
        if (typeof reading !== 'string') ref = reading;
      }
      // The server side first: a cookie cleared while Redis still holds the session would look signed out
      // in this browser while a copy of the cookie keeps working elsewhere.
      // A cookie whose token reauthenticate() replaced (a sign-out clicked during a re-authentication) ends the
      // session it moved to: found by the session's id, known when this request resolved it before the rotation.
      const started = startTimer();
      const ended = ref ? await budgeted(req, (budget) => store.logout(ref, session?.sessionId, budget)) : false;
      debug('logout', ref ? (ended === true ? 'ok' : ended || 'no live session') : 'no session', started);
      if (ended === 'SESSION_ROTATED') {
        // Never success while the session may live: refused, and the cookie kept (the browser may hold the newer one).
        throw new SessionError('SESSION_ROTATED', 'logout(): this cookie\'s token was replaced by reauthenticate() and the session it moved to '
          + 'cannot be found from it, so it may still be live under the newer cookie. Sign out with the newer cookie (or use revokeSession()).');
      }
      setSessionOn(req, config.requestProperty, null);
      req.sessionErrorCode = 'SESSION_MISSING';
      if (ended) emitSafely(events, 'logout', { userId: session?.userId ?? null, sessionId: session?.sessionId ?? null });
      if (res.headersSent) {
        throw new SessionError('HEADERS_SENT', 'logout() ended the session in Redis, but the response had started, so the cookie could not be cleared: call logout() before sending the response.');
      }
      cookies.clear(req, res);
    },

    async reauthenticate(req: Request, res: Response): Promise<Session> {
      const session = sessionOn(req, config.requestProperty);
      if (!session) {
        throw new SessionError(req.sessionErrorCode ?? 'MISCONFIGURED', 'reauthenticate() needs a request with a live session (mount sessions.middleware() and call it for a signed-in request).');
      }
      refuseIfSent(res, 'reauthenticate');
      const from = refOf(session);
      const { cookieValue, ref } = issueToken(session.userId, config.userTagOf);
      const outcome = await budgeted(req, (budget) => store.reauthenticate(from, ref, budget));
      if (typeof outcome === 'string') {
        setSessionOn(req, config.requestProperty, null);
        req.sessionErrorCode = outcome;
        if (outcome !== 'SESSION_ROTATED') cookies.clear(req, res);
        throw new SessionError(outcome);
      }
      refuseIfSent(res, 'reauthenticate');
      rebind(session, ref, outcome);
      const deadline = session.absoluteExpiresAt;
      cookies.set(req, res, cookieValue, deadline ? deadline.getTime() : 0);
      return session as unknown as Session;
    },
  };
}

function refuseIfSent(res: Response, helper: string): void {
  if (res.headersSent) {
    throw new SessionError('HEADERS_SENT', `${helper}() must run before the response is sent: it sets the session cookie.`);
  }
}
