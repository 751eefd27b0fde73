/**
 * The session operations: resolve and peek (reads.ts), login, save, logout, revoke, list, reauthenticate
 * and scan. Every call is one round trip through the client adapter (calls.ts: bounded by the store
 * timeout, failing fast while disconnected). Writes carry the caller's deadline in Redis's clock, so one
 * that runs after the caller gave up is a no-op. Local caches learn of them from Redis (client tracking).
 */
import type { RedisAdapter } from '../clients/adapter';
import type { SessionError } from '../errors';
import type { SessionRef } from '../token';
import { badReply, createCalls, unavailable, type StoreObserver } from './calls';
import { indexPattern, keyNamer, userTagOfIndex } from './keys';
import type { LiveEndCode } from './notices';
import { createReads, endedCode, type EndedCode, type ReadConfig } from './reads';
import { compactId, DATA_PREFIX, decodeListing, sessionIdOf, uuidOf, type ListedSession } from './records';
import { LIST, LOGIN, LOGOUT, REAUTHENTICATE, REPLY, REVOKE, SAVE, STATUS } from './scripts';

export type { StoreObserver } from './calls';
export type { EndedCode, ResolveResult } from './reads';
export type { ListedSession, StoredSession } from './records';
export type { LiveEndCode } from './notices';

/** `status`'s answer for a live session: until when (Redis clock, ms) and its current token hash. */
export interface LiveStatus {
  readonly expiresAt: number;
  readonly tokenHash: string;
}

/** What the store needs from the frozen configuration. */
export interface StoreConfig extends ReadConfig {
  readonly keyPrefix: string;
  /** WAIT after each write that creates or ends a session; null when off. */
  readonly waitForReplicas: { readonly replicas: number; readonly timeoutMs: number } | null;
}

/** A new session's details for `login`. */
export interface NewSession {
  readonly userId: string;
  readonly maxSessions: number;
  readonly onLimit: 'displace-oldest' | 'reject-new';
  /** The token hash of the session the browser held for the same user, ended by this sign-in. */
  readonly previousTokenHash: string | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly data: [string, string][];
}

/** The session operations, bound to one Redis client and configuration. */
export type SessionStore = ReturnType<typeof createStore>;

/** Builds the store for a manager. Key prefixes and script arguments are computed once, here. */
export function createStore(config: StoreConfig, redis: RedisAdapter, observe?: StoreObserver) {
  const { keyPrefix } = config;
  const idle = String(config.idleMs);
  const absolute = String(config.absoluteMs);
  const indexTtl = String(config.indexTtlMs);
  const keysOf = keyNamer(keyPrefix);
  const calls = createCalls(redis, config.storeTimeoutMs, config.waitForReplicas, observe);
  const { run, deadline, learnClock, replicate, whenReady } = calls;
  const reads = createReads(config, redis, calls, keysOf);

  /** A write's deadline in Redis's clock: the store timeout's, or sooner when the request has less left (`budgetMs`). */
  const margin = Math.min(100, Math.floor(config.storeTimeoutMs / 4));
  const deadlineWithin = (budgetMs?: number): string =>
    budgetMs === undefined ? deadline() : String(Math.min(Number(deadline()), calls.redisNow() + budgetMs - margin));

  function late(operation: string): SessionError {
    return unavailable(new Error(`${operation} reached Redis after its deadline and did nothing`));
  }

  /** Ends a session whose sign-in failed after Redis created it (its cookie never went out). Best effort, no WAIT. */
  async function abandon(ref: SessionRef): Promise<void> {
    await run('abandon', LOGOUT, [keysOf(ref.userTag).index], [ref.tokenHash, '0', 'L']).catch(() => undefined);
  }

  return {
    resolve: reads.resolve,
    peek: reads.peek,
    cacheSize: reads.cacheSize,
    close: reads.close,

    /** Read-only: is the session with this id still live (following it across re-authentication), and until when. */
    async status(ref: SessionRef, sessionId: string): Promise<LiveStatus | LiveEndCode> {
      const keys = keysOf(ref.userTag);
      const sentAt = Date.now();
      const reply = await run('status', STATUS, [keys.index], [ref.tokenHash, compactId(sessionId)]);
      if (!Array.isArray(reply) || reply.length === 0) throw badReply('status', reply);
      if (reply[0] === REPLY.LOGGED_OUT) return 'SESSION_LOGGED_OUT';
      if (reply[0] !== REPLY.OK) {
        const code = endedCode(reply[0]);
        if (code === 'SESSION_EXPIRED' || code === 'SESSION_DISPLACED' || code === 'SESSION_REVOKED') return code;
        throw badReply('status', reply);
      }
      if (reply.length !== 4 || typeof reply[3] !== 'string') throw badReply('status', reply);
      learnClock(Number(reply[1]), sentAt);
      return { expiresAt: Number(reply[1]) + Number(reply[2]), tokenHash: reply[3] };
    },

    /**
     * How long ago (ms, Redis's clock) `reauthenticate()` replaced this token; null when its mark says otherwise.
     * Read only for a request already refused as rotated, to tell a request in flight during the rotation
     * from a client that never received the newer cookie.
     */
    async rotatedFor(ref: SessionRef): Promise<number | null> {
      const index = keysOf(ref.userTag).index;
      const replies = await calls.timed('rotated', () => redis.pipeline([['HGET', index, ref.tokenHash]]));
      const mark = Array.isArray(replies) ? replies[0] : null;
      if (typeof mark !== 'string' || !mark.startsWith('T')) return null;
      const at = Number(mark.slice(1));
      return Number.isFinite(at) ? Math.max(0, calls.redisNow() - at) : null;
    },

    /** Redis's clock as this process estimates it (ms since the epoch). */
    now: calls.redisNow,

    /** Makes a new session live for the user under the limit policy. */
    async login(ref: SessionRef, session: NewSession, budgetMs?: number): Promise<{ sessionId: string; createdAt: number; absoluteDeadline: number; displaced: string[] } | 'SESSION_LIMIT_REACHED'> {
      const keys = keysOf(ref.userTag);
      const args: string[] = [
        ref.tokenHash, session.userId, idle, absolute, indexTtl, String(session.maxSessions),
        session.onLimit === 'reject-new' ? 'r' : 'd', deadlineWithin(budgetMs), session.previousTokenHash ?? '', session.userAgent ?? '', session.ip ?? '',
      ];
      for (const [name, json] of session.data) args.push(DATA_PREFIX + name, json);
      const sentAt = Date.now();
      const reply = await run('login', LOGIN, [keys.index, keys.session(ref.tokenHash)], args);
      if (!Array.isArray(reply) || reply.length === 0) throw badReply('login', reply);
      if (reply[0] === REPLY.LATE) throw late('login');
      if (reply[0] === REPLY.LIMIT) return 'SESSION_LIMIT_REACHED';
      if (reply[0] !== REPLY.OK || reply.length < 3) throw badReply('login', reply);
      learnClock(Number(reply[1]), sentAt);
      try {
        await replicate(keys.index);
      } catch (err) {
        // No cookie will be handed out: a session left live would count against the limit until it idles out.
        await abandon(ref);
        throw err;
      }
      const displaced = reply.slice(3).map((sid) => uuidOf(String(sid)));
      return { sessionId: sessionIdOf(ref.tokenHash), createdAt: Number(reply[1]), absoluteDeadline: Number(reply[2]), displaced };
    },

    abandon,

    /** Writes changed data fields, only while the session is live. */
    async save(ref: SessionRef, set: [string, string][], remove: string[]): Promise<'OK' | EndedCode> {
      const keys = keysOf(ref.userTag);
      const args: string[] = [ref.tokenHash, deadline(), String(set.length)];
      for (const [name, json] of set) args.push(DATA_PREFIX + name, json);
      for (const name of remove) args.push(DATA_PREFIX + name);
      const reply = await run('save', SAVE, [keys.index, keys.session(ref.tokenHash)], args);
      if (reply === REPLY.OK) return 'OK';
      if (reply === REPLY.LATE) throw late('save');
      const ended = endedCode(reply);
      if (ended) return ended;
      throw badReply('save', reply);
    },

    /**
     * Ends the session if it is live: true if it was. `sessionId` (the session's, when known; else the id
     * its token would derive) lets a token that `reauthenticate()` replaced end the session it moved to;
     * `SESSION_ROTATED` when the token was replaced and no live session has that id.
     */
    async logout(ref: SessionRef, sessionId?: string, budgetMs?: number): Promise<boolean | 'SESSION_ROTATED'> {
      const keys = keysOf(ref.userTag);
      const args = [ref.tokenHash, deadlineWithin(budgetMs), 'L', compactId(sessionId ?? sessionIdOf(ref.tokenHash))];
      const reply = await run('logout', LOGOUT, [keys.index], args);
      if (reply === REPLY.LATE) throw late('logout');
      if (reply === REPLY.ROTATED) return 'SESSION_ROTATED';
      if (reply !== 0 && reply !== 1) throw badReply('logout', reply);
      await replicate(keys.index);
      return reply === 1;
    },

    /** Ends one session (`one`) or all but one (`all`, `sessionId` kept; null keeps none). Resolves to the ended ids. */
    async revoke(userTag: string, mode: 'one' | 'all', sessionId: string | null): Promise<string[]> {
      const keys = keysOf(userTag);
      const reply = await run('revoke', REVOKE, [keys.index], [deadline(), mode, sessionId ? compactId(sessionId) : '']);
      if (!Array.isArray(reply) || reply.length === 0) throw badReply('revoke', reply);
      if (reply[0] === REPLY.LATE) throw late('revoke');
      const ended = reply.slice(1).map((sid) => uuidOf(String(sid)));
      if (ended.length > 0) await replicate(keys.index);
      return ended;
    },

    /** The user's live sessions, oldest first. */
    async list(userTag: string): Promise<ListedSession[]> {
      const keys = keysOf(userTag);
      const reply = await run('list', LIST, [keys.index], []);
      const listing = decodeListing(reply);
      if (!listing) throw badReply('list', reply);
      return listing;
    },

    /** Moves a live session to a new token and records the re-authentication time. */
    async reauthenticate(from: SessionRef, to: SessionRef, budgetMs?: number): Promise<number | EndedCode> {
      const keys = keysOf(from.userTag);
      const args = [from.tokenHash, to.tokenHash, deadlineWithin(budgetMs)];
      const reply = await run('reauthenticate', REAUTHENTICATE, [keys.index], args);
      if (!Array.isArray(reply) || reply.length === 0) throw badReply('reauthenticate', reply);
      if (reply[0] === REPLY.OK) return Number(reply[1]);
      if (reply[0] === REPLY.LATE) throw late('reauthenticate');
      const ended = endedCode(reply[0]);
      if (ended) return ended;
      throw badReply('reauthenticate', reply);
    },

    /**
     * Every user index under the prefix, on every master: user tags a batch at a time (SCAN, never blocking).
     * Each step is bounded by the store timeout and fails as SESSION_STORE_UNAVAILABLE, without the command's arguments.
     */
    async *scanUserTags(batch = 250): AsyncIterable<string[]> {
      const steps = redis.scan(indexPattern(keyPrefix), batch)[Symbol.asyncIterator]();
      for (;;) {
        const step = await whenReady(() => steps.next());
        if (step.done) return;
        yield step.value.map((name) => userTagOfIndex(keyPrefix, name));
      }
    },
  };
}
