/**
 * The request path's reads: resolve (with the refresh due under `touchAfter`), peek, and the local
 * cache in front of them. Plain reads take the record first and the index second, so a live answer was
 * live at the first read; every answer is checked for data the package did not write.
 */
import type { RedisAdapter } from '../clients/adapter';
import { openTrackedReader, type TrackedReader } from '../clients/tracking';
import { SessionCache } from '../cache';
import type { SessionRef } from '../token';
import { badReply, type Calls } from './calls';
import type { UserKeys } from './keys';
import { createLocalReads } from './local-reads';
import { decodeSession, sessionFromFields, type StoredSession } from './records';
import type { LiveEndCode } from './notices';
import { LOGOUT, REPLY, RESOLVE, TOUCH } from './scripts';

/**
 * Why a request's token holds no live session: the session ended (a `LiveEndCode`; signed out reads as
 * expired), or the token was replaced (`SESSION_ROTATED`), or what Redis holds is not a session (`SESSION_INVALID`).
 */
export type EndedCode = Exclude<LiveEndCode, 'SESSION_LOGGED_OUT'> | 'SESSION_ROTATED' | 'SESSION_INVALID';

/** Resolve's answer: the session, or why there is none. */
export type ResolveResult = StoredSession | EndedCode;

/** What the reads need from the configuration. */
export interface ReadConfig {
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly indexTtlMs: number;
  readonly touchAfterMs: number;
  readonly storeTimeoutMs: number;
  readonly localCache: { readonly maxEntries: number } | null;
}

/** Every script reply code is below this; a time (ms since the epoch) is far above it. */
const REPLY_CODES_END = 1000;

const CODES: Record<number, EndedCode> = {
  [REPLY.EXPIRED]: 'SESSION_EXPIRED',
  [REPLY.DISPLACED]: 'SESSION_DISPLACED',
  [REPLY.REVOKED]: 'SESSION_REVOKED',
  [REPLY.ROTATED]: 'SESSION_ROTATED',
};

/** The script replies that say why a session ended. */
export function endedCode(reply: unknown): EndedCode | undefined {
  return typeof reply === 'number' ? CODES[reply] : undefined;
}

/** A tombstone's meaning (see keys.ts): `D` displaced, `R` revoked, `T` rotated, anything else (signed out, expired) expired. */
function endedBy(mark: string): EndedCode {
  if (mark.startsWith('D')) return 'SESSION_DISPLACED';
  if (mark.startsWith('R')) return 'SESSION_REVOKED';
  if (mark.startsWith('T')) return 'SESSION_ROTATED';
  return 'SESSION_EXPIRED';
}

/** Builds the read path of one store. */
export function createReads(config: ReadConfig, redis: RedisAdapter, calls: Calls, keysOf: (userTag: string) => UserKeys) {
  const { touchAfterMs, absoluteMs } = config;
  const idle = String(config.idleMs);
  const absolute = String(absoluteMs);
  const indexTtl = String(config.indexTtlMs);
  /**
   * How long after its last refresh a cached record is still served: its idle timeout less a margin (at
   * least touchAfter, at least a second) that covers this process's estimate of Redis's clock and the
   * expiry's invalidation on its way, and never less than touchAfter. Older records are read from Redis.
   */
  const cachedForMs = Math.max(touchAfterMs, config.idleMs - Math.max(touchAfterMs, 1000));
  const cache = config.localCache ? new SessionCache(config.localCache.maxEntries) : null;
  const reader: TrackedReader | null =
    cache && redis.trackingTarget ? openTrackedReader(redis.trackingTarget, { invalidate: (keys) => cache.invalidate(keys) }, config.storeTimeoutMs) : null;

  /** When this process last sent a refresh for each session (`<userTag>.<tokenHash>`), in Redis's clock; in time order. */
  const touchesSent = new Map<string, number>();

  /** Drops the oldest entries of a time-ordered map while `stale` says so: the maps stay as small as what is in flight. */
  function prune<V>(map: Map<string, V>, stale: (value: V) => boolean): void {
    for (const [key, value] of map) {
      if (!stale(value)) return;
      map.delete(key);
    }
  }

  /** The session as plain reads see it, through `pipeline` (the app's client, or the cache's tracked reader). */
  async function read(ref: SessionRef, operation: string, pipeline = redis.pipeline): Promise<ResolveResult> {
    const keys = keysOf(ref.userTag);
    const replies = await calls.timed(operation, () =>
      pipeline([['HGETALL', keys.session(ref.tokenHash)], ['HGET', keys.index, ref.tokenHash]]),
    );
    const [fields, mark] = replies as [unknown, unknown];
    if (!Array.isArray(fields)) throw badReply(operation, replies);
    if (mark !== '') return typeof mark === 'string' ? endedBy(mark) : 'SESSION_EXPIRED';
    if (fields.length === 0) return 'SESSION_EXPIRED';
    // Redis's clock as learnt from the scripts' replies (sign-in, refresh): no TIME command on the request path.
    const now = calls.redisNow();
    const session = sessionFromFields(fields, 0, now, false, absoluteMs, ref.tokenHash);
    if (!session) throw badReply(operation, replies);
    if (session.absoluteDeadline > 0 && session.absoluteDeadline <= now) {
      end(keys.index, ref.tokenHash, 'E');
      return 'SESSION_EXPIRED';
    }
    return checked(session, keys.index, ref.tokenHash);
  }

  /** Refreshes a live session's idle timeout (a plain read found the refresh due). */
  async function touch(ref: SessionRef): Promise<void> {
    const keys = keysOf(ref.userTag);
    const sentAt = Date.now();
    const reply = await calls.run('touch', TOUCH, [keys.index, keys.session(ref.tokenHash)], [ref.tokenHash, idle, indexTtl, absolute, calls.deadline()]);
    if (typeof reply === 'number' && reply > REPLY_CODES_END) calls.learnClock(reply, sentAt); // a time, not a reply code
  }

  /** The script path (touchAfter 0): one round trip that reads and refreshes. */
  async function resolveAndTouch(ref: SessionRef): Promise<ResolveResult> {
    const keys = keysOf(ref.userTag);
    const sentAt = Date.now();
    const reply = await calls.run('resolve', RESOLVE, [keys.index, keys.session(ref.tokenHash)], [ref.tokenHash, idle, indexTtl, absolute]);
    const ended = endedCode(reply);
    if (ended) return ended;
    const session = decodeSession(reply, absoluteMs, ref.tokenHash);
    if (!session) throw badReply('resolve', reply);
    calls.learnClock(session.observedAt, sentAt);
    return checked(session, keys.index, ref.tokenHash);
  }

  /** Stored data the package did not write is not a session: it is ended, and the request gets SESSION_INVALID. */
  function checked(session: StoredSession, index: string, tokenHash: string): StoredSession | 'SESSION_INVALID' {
    if (isPlausible(session)) return session;
    end(index, tokenHash, 'E');
    return 'SESSION_INVALID';
  }

  /** Ends a session found dead on a read path, without making the request wait (best effort: it expires anyway). */
  function end(index: string, tokenHash: string, kind: 'E'): void {
    calls.run('end', LOGOUT, [index], [tokenHash, '0', kind]).catch(() => undefined);
  }

  /**
   * A cached record still good for this request: the absolute deadline not reached and the idle timeout
   * far from it. A refresh that is due is sent by `resolve` as after a read: only the read is saved.
   */
  function fresh(hit: StoredSession): StoredSession | undefined {
    const now = calls.redisNow();
    if (now - hit.lastActiveAt >= cachedForMs || (hit.absoluteDeadline > 0 && now >= hit.absoluteDeadline)) return undefined;
    return { ...hit, observedAt: Math.max(now, hit.lastActiveAt, hit.authenticatedAt), data: new Map(hit.data) };
  }
  /**
   * Sends the refresh of a live session when one is due under touchAfter, without waiting for it. A refresh
   * this process already sent counts as done: concurrent requests of one session that all read the old
   * last-active time do not each send one.
   */
  function refreshIfDue(ref: SessionRef, result: ResolveResult): ResolveResult {
    if (typeof result === 'string') return result;
    const key = `${ref.userTag}.${ref.tokenHash}`;
    result.lastActiveAt = Math.max(result.lastActiveAt, Math.min(touchesSent.get(key) ?? 0, result.observedAt));
    if (result.observedAt - result.lastActiveAt >= touchAfterMs) {
      result.lastActiveAt = result.observedAt;
      const sentAt = result.observedAt;
      prune(touchesSent, (at) => sentAt - at >= touchAfterMs);
      touchesSent.delete(key);
      touchesSent.set(key, sentAt);
      touch(ref).catch(() => undefined);
    }
    return result;
  }

  // Exact for writes from every process, with or without localCache: a hit waits for the read barrier
  // (local-reads.ts), which orders it after every invalidation a write answered before the request caused.
  const local = cache && reader ? createLocalReads(cache, reader, (ref, pipeline) => read(ref, 'resolve', pipeline), (ref) => read(ref, 'resolve'), fresh) : null;

  /** Reads the session from Redis and sends its refresh when one is due. */
  const readAndRefresh = (ref: SessionRef): Promise<ResolveResult> => read(ref, 'resolve').then((found) => refreshIfDue(ref, found));

  return {
    /**
     * Looks the session up. With `touchAfter` 0 one script reads and refreshes it; otherwise plain commands
     * read it in one round trip (none on a local cache hit) and a refresh is sent, without waiting for it,
     * only when one is due.
     */
    resolve(ref: SessionRef): Promise<ResolveResult> {
      if (touchAfterMs === 0) return resolveAndTouch(ref);
      if (!local?.ready()) return readAndRefresh(ref);
      return local.lookup(ref).then((found) => refreshIfDue(ref, found));
    },

    /** Looks the session up in Redis without refreshing it: not activity (for live streams and checks). */
    peek: (ref: SessionRef): Promise<ResolveResult> => read(ref, 'peek'),

    /** Entries held by the local cache (0 without one). */
    cacheSize: (): number => cache?.size ?? 0,

    /** Closes the cache's own connections. */
    close(): void {
      reader?.close();
      cache?.invalidate(null);
    },
  };
}

/**
 * How far ahead of this process's estimate of Redis's clock a stored time may be: the estimate is learnt
 * from replies and can trail a refresh that another request just made by a few milliseconds.
 */
const CLOCK_SLACK_MS = 60_000;

/**
 * Stored data the package did not write (a missing user, a created time in the future) is not a session.
 * A plausible one gets an `observedAt` no earlier than its own times.
 */
function isPlausible(session: StoredSession): boolean {
  const latest = session.observedAt + CLOCK_SLACK_MS;
  const ok =
    session.userId !== '' &&
    session.sessionId !== '' &&
    Number.isFinite(session.createdAt) &&
    session.createdAt > 0 &&
    session.createdAt <= session.lastActiveAt &&
    session.lastActiveAt <= latest &&
    session.authenticatedAt >= session.createdAt &&
    session.authenticatedAt <= latest;
  if (ok) session.observedAt = Math.max(session.observedAt, session.lastActiveAt, session.authenticatedAt);
  return ok;
}
