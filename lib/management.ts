/**
 * Managing a user's sessions from anywhere (an account page, an admin screen): list them, end one,
 * end all or all but one, and walk every live session without blocking Redis.
 */
import type { EventEmitter } from 'node:events';
import { SessionError } from './errors';
import { emitSafely } from './events';
import type { ListedSession, SessionStore } from './store/store';
import { checkUserId } from './user-id';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One live session as `listSessions()` shows it. Never a token or its hash. */
export interface SessionListing {
  /** The public handle of the session, as `req.session.sessionId` shows it. */
  readonly sessionId: string;
  /** When the user signed in. */
  readonly createdAt: Date;
  /** The last request that refreshed the session. */
  readonly lastActiveAt: Date;
  /** When the session ends if unused. */
  readonly expiresAt: Date;
  /** The `User-Agent` at sign-in (at most 256 characters), or null when not recorded. */
  readonly userAgent: string | null;
  /** `req.ip` at sign-in, or null when not recorded. */
  readonly ip: string | null;
}

/** A live session of any user, as `scanSessions()` yields it. */
export interface ScannedSession extends SessionListing {
  /** The user the session belongs to. */
  readonly userId: string;
}

/** Options of `revokeUser()`. */
export interface RevokeUserOptions {
  /** A session id to keep: "sign out all other devices". */
  except?: string;
}

function checkSessionId(sessionId: unknown, method: string): asserts sessionId is string {
  if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) {
    throw new SessionError('INVALID_ARGUMENT', `${method}() needs a session id as \`req.session.sessionId\` or listSessions() show it (a lower-case UUID).`);
  }
}

function listingOf(session: ListedSession): SessionListing {
  return {
    sessionId: session.sessionId,
    createdAt: new Date(session.createdAt),
    lastActiveAt: new Date(session.lastActiveAt),
    expiresAt: new Date(session.expiresAt),
    userAgent: session.userAgent,
    ip: session.ip,
  };
}

/** The management methods of one manager; `userTagOf` names a user's slot. */
export function createManagement(store: SessionStore, events: EventEmitter, userTagOf: (userId: string) => string) {
  return {
    async listSessions(userId: string): Promise<SessionListing[]> {
      checkUserId(userId, 'listSessions');
      return (await store.list(userTagOf(userId))).filter((s) => s.userId === userId).map(listingOf);
    },

    async revokeSession(userId: string, sessionId: string): Promise<boolean> {
      checkUserId(userId, 'revokeSession');
      checkSessionId(sessionId, 'revokeSession');
      const ended = await store.revoke(userTagOf(userId), 'one', sessionId);
      for (const id of ended) emitSafely(events, 'revoked', { userId, sessionId: id });
      return ended.length > 0;
    },

    async revokeUser(userId: string, options: RevokeUserOptions = {}): Promise<number> {
      checkUserId(userId, 'revokeUser');
      if (options === null || typeof options !== 'object' || Object.keys(options).some((key) => key !== 'except')) {
        throw new SessionError('INVALID_ARGUMENT', 'revokeUser() takes `{ except?: sessionId }` as its second argument.');
      }
      if (options.except !== undefined) checkSessionId(options.except, 'revokeUser');
      const ended = await store.revoke(userTagOf(userId), 'all', options.except ?? null);
      for (const id of ended) emitSafely(events, 'revoked', { userId, sessionId: id });
      return ended.length;
    },

    async *scanSessions(): AsyncIterableIterator<ScannedSession> {
      for await (const tags of store.scanUserTags()) {
        for (const tag of tags) {
          for (const session of await store.list(tag)) yield { userId: session.userId, ...listingOf(session) };
        }
      }
    },
  };
}
