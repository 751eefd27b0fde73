/**
 * What the Store does, as async functions over the store operations: a session with no user is the JSON
 * of its pointer key (its TTL from its cookie); the first save that names a user binds it, under the
 * limit policy, as a package session of that user whose data field `express-session` holds the JSON.
 * An id that ended (displaced, revoked, destroyed) is never written again: its save does nothing.
 */
import type { EventEmitter } from 'node:events';
import { debug } from '../debug';
import { SessionError } from '../errors';
import { emitSafely } from '../events';
import { checkMaxSessions } from '../parse-options';
import type { PointerStore } from '../store/express-session';
import { sessionIdOf } from '../store/records';
import type { EndedCode, SessionStore } from '../store/store';
import { hashToken, type SessionRef } from '../token';
import { checkUserId } from '../user-id';
import type { ExpressSessionData, StoreConfig } from './options';

/** The data field of a bound session's record that holds express-session's JSON. */
export const SESSION_FIELD = 'express-session';
/** How many ids each per-process map remembers before it starts again (they are hints, never the truth). */
const REMEMBERED = 10_000;

/** Why the session a request's cookie named is gone, as `req.sessionEndedCode` reports it. */
export type SessionEndedCode = 'SESSION_DISPLACED' | 'SESSION_REVOKED' | 'SESSION_EXPIRED' | null;

/** A session with no user as its pointer holds it: its data's JSON, a newline, its cookie's JSON (touch replaces only that). */
function encodePlain(session: ExpressSessionData): string {
  const { cookie, ...data } = session;
  return `${JSON.stringify(data)}\n${JSON.stringify(cookie ?? null)}`;
}

function decodePlain(text: string): ExpressSessionData {
  const cut = text.indexOf('\n');
  if (cut < 0) return JSON.parse(text) as ExpressSessionData;
  const cookie = JSON.parse(text.slice(cut + 1)) as ExpressSessionData['cookie'] | null;
  return { ...(JSON.parse(text.slice(0, cut)) as ExpressSessionData), ...(cookie ? { cookie } : {}) };
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= REMEMBERED) map.clear();
  map.set(key, value);
}

/** The Store's session functions over one configuration, store and pointer store; `events` is the Store. */
export function createSessions(config: StoreConfig, store: SessionStore, pointers: PointerStore, events: EventEmitter) {
  /** Bound ids and their user tag: an id, once bound, is never bound to another user. */
  const bound = new Map<string, string>();
  /** When this process last refreshed each id (local ms), for `touchAfter`. */
  const refreshed = new Map<string, number>();
  /** Ids whose read found them ended, and why, for `endedReason()`. */
  const ended = new Map<string, SessionEndedCode>();
  /** A bound id's pointer must outlive its session: the absolute timeout, else the index's TTL (kept up by refreshes). */
  const pointerTtl = config.absoluteMs > 0 ? config.absoluteMs : config.indexTtlMs;

  const limitFor = (userId: string): number => {
    const { maxSessions } = config;
    if (typeof maxSessions === 'number') return maxSessions;
    return checkMaxSessions(maxSessions(userId), (message) => {
      throw new SessionError('INVALID_OPTIONS', `maxSessions(userId) returned a value it cannot use: ${message}`);
    });
  };

  /** A session with no user lives as long as its cookie; one without `expires` as long as the idle timeout. */
  function ttlOf(session: ExpressSessionData): number {
    const expires = session.cookie?.expires;
    if (expires === undefined || expires === null) return config.idleMs;
    return new Date(expires).getTime() - Date.now();
  }

  async function userTagOf(hash: string): Promise<string | null> {
    const known = bound.get(hash);
    if (known !== undefined) return known;
    const pointer = await pointers.read(hash);
    if (pointer === null || typeof pointer === 'string' || !('userTag' in pointer)) return null;
    remember(bound, hash, pointer.userTag);
    return pointer.userTag;
  }

  /** Reports a save that did nothing because the session had ended (the id can never come back). */
  function notSaved(hash: string, userId: string | null, code: EndedCode | 'DESTROYED'): void {
    debug('express-session set', `not saved: the session ended (${code})`);
    if (code === 'DESTROYED' || userId === null) return;
    const error = new SessionError(code === 'SESSION_ROTATED' || code === 'SESSION_INVALID' ? 'SESSION_EXPIRED' : code);
    config.onError?.(error);
    emitSafely(events, 'save-error', { error, userId, sessionId: sessionIdOf(hash) });
  }

  async function saveBound(ref: SessionRef, json: string, userId: string | null): Promise<void> {
    const saved = await store.save(ref, [[SESSION_FIELD, json]], []);
    if (saved !== 'OK') notSaved(ref.tokenHash, userId, saved);
  }

  /** The first save naming a user: the limit policy applies here, atomically in the user's slot. */
  async function bind(hash: string, userId: string, json: string): Promise<void> {
    const ref: SessionRef = { userTag: config.userTagOf(userId), tokenHash: hash };
    const result = await pointers.bind(ref, {
      userId, maxSessions: limitFor(userId), onLimit: config.onLimit, previousTokenHash: null, userAgent: null, ip: null, data: [[SESSION_FIELD, json]],
    });
    if (result === 'BOUND') return saveBound(ref, json, userId);
    if (result === 'SESSION_LIMIT_REACHED') {
      emitSafely(events, 'limit', { userId, sessionId: null });
      throw new SessionError('SESSION_LIMIT_REACHED');
    }
    if (typeof result === 'string') return notSaved(hash, userId, result);
    emitSafely(events, 'login', { userId, sessionId: result.sessionId });
    for (const sessionId of result.displaced) emitSafely(events, 'displaced', { userId, sessionId });
    if (!(await pointers.point(hash, ref.userTag, pointerTtl))) {
      // Destroyed while it was being bound: it ends at once.
      await store.logout(ref);
      return notSaved(hash, userId, 'DESTROYED');
    }
    remember(bound, hash, ref.userTag);
    remember(refreshed, hash, Date.now());
  }

  /** Refreshes a bound session when `touchAfter` says one is due (reading it refreshes it then). */
  async function touchBound(ref: SessionRef): Promise<void> {
    const last = refreshed.get(ref.tokenHash) ?? 0;
    if (Date.now() - last < config.touchAfterMs) return;
    await read(ref);
  }

  /** A bound session's data, refreshing it when due; null once it ended (remembering why). */
  async function read(ref: SessionRef): Promise<ExpressSessionData | null> {
    const found = await store.resolve(ref);
    if (typeof found === 'string') {
      remember(ended, ref.tokenHash, found === 'SESSION_DISPLACED' || found === 'SESSION_REVOKED' ? found : 'SESSION_EXPIRED');
      if (found === 'SESSION_EXPIRED') emitSafely(events, 'expired', { userId: null, sessionId: sessionIdOf(ref.tokenHash) });
      return null;
    }
    if (found.lastActiveAt === found.observedAt) {
      // This read refreshed the session: its pointer must live as long.
      remember(refreshed, ref.tokenHash, Date.now());
      if (config.absoluteMs === 0) await pointers.expire(ref.tokenHash, pointerTtl);
    }
    const json = found.data.get(SESSION_FIELD);
    return json === undefined ? null : (JSON.parse(json) as ExpressSessionData);
  }

  return {
    async get(sid: string): Promise<ExpressSessionData | null> {
      const hash = hashToken(sid);
      const userTag = bound.get(hash);
      const pointer = userTag === undefined ? await pointers.read(hash) : { userTag };
      if (pointer === null || pointer === 'DESTROYED') {
        remember(ended, hash, pointer === null ? 'SESSION_EXPIRED' : null);
        return null;
      }
      if ('plain' in pointer) return decodePlain(pointer.plain);
      remember(bound, hash, pointer.userTag);
      return read({ userTag: pointer.userTag, tokenHash: hash });
    },

    async set(sid: string, session: ExpressSessionData): Promise<void> {
      const hash = hashToken(sid);
      const json = JSON.stringify(session);
      const userId = config.userOf(session);
      if (userId !== null) checkUserId(userId, 'set');
      let userTag = await (userId === null ? Promise.resolve(bound.get(hash) ?? null) : userTagOf(hash));
      if (userTag === null && userId === null) {
        const ttl = ttlOf(session);
        const written = ttl > 0 ? await pointers.setPlain(hash, encodePlain(session), ttl) : await pointers.destroyPlain(hash, config.idleMs);
        if (written === 'DESTROYED') return notSaved(hash, null, written);
        if (written === null || typeof written === 'string' || !('userTag' in written)) return;
        userTag = written.userTag;
        remember(bound, hash, userTag);
      }
      if (userTag === null) return bind(hash, userId!, json);
      if (userId !== null && userTag !== config.userTagOf(userId)) {
        throw new SessionError('INVALID_ARGUMENT', 'This session belongs to another user: regenerate it (req.session.regenerate, as req.login() does) before signing a new user in.');
      }
      return saveBound({ userTag, tokenHash: hash }, json, userId);
    },

    async touch(sid: string, session: ExpressSessionData): Promise<void> {
      const hash = hashToken(sid);
      const userTag = bound.get(hash);
      if (userTag !== undefined) return touchBound({ userTag, tokenHash: hash });
      if (Date.now() - (refreshed.get(hash) ?? 0) < config.touchAfterMs) return;
      const touched = await pointers.touchPlain(hash, JSON.stringify(session.cookie ?? null), Math.max(1, ttlOf(session)));
      if (touched === 'OK') remember(refreshed, hash, Date.now());
      else if (touched !== null && typeof touched === 'object' && 'userTag' in touched) {
        remember(bound, hash, touched.userTag);
        await touchBound({ userTag: touched.userTag, tokenHash: hash });
      }
    },

    async destroy(sid: string): Promise<void> {
      const hash = hashToken(sid);
      let userTag = bound.get(hash);
      if (userTag === undefined) {
        const destroyed = await pointers.destroyPlain(hash, config.idleMs);
        if (destroyed === null || typeof destroyed === 'string' || !('userTag' in destroyed)) return;
        userTag = destroyed.userTag;
      }
      if (await store.logout({ userTag, tokenHash: hash })) emitSafely(events, 'logout', { userId: null, sessionId: sessionIdOf(hash) });
    },

    /** Every live session under the prefix (their ids are not stored: only their hashes are). */
    async all(): Promise<ExpressSessionData[]> {
      const found: ExpressSessionData[] = [];
      for await (const hashes of pointers.scan()) {
        for (const hash of hashes) {
          const pointer = await pointers.read(hash);
          if (pointer === null || pointer === 'DESTROYED') continue;
          if ('plain' in pointer) found.push(decodePlain(pointer.plain));
          else {
            const live = await store.peek({ userTag: pointer.userTag, tokenHash: hash });
            const json = typeof live === 'string' ? undefined : live.data.get(SESSION_FIELD);
            if (json !== undefined) found.push(JSON.parse(json) as ExpressSessionData);
          }
        }
      }
      return found;
    },

    /** Ends every session under the prefix: bound ones are signed out (never to come back), the rest deleted. */
    async clear(): Promise<void> {
      for await (const hashes of pointers.scan()) {
        for (const hash of hashes) {
          const pointer = await pointers.read(hash);
          if (pointer !== null && typeof pointer === 'object' && 'userTag' in pointer) await store.logout({ userTag: pointer.userTag, tokenHash: hash });
        }
        await pointers.remove(hashes);
      }
      bound.clear();
    },

    /** Why the session of id `sid` was found ended by a read of this process (undefined when none was). */
    endedOf: (sid: string): SessionEndedCode | undefined => ended.get(hashToken(sid)),
  };
}
