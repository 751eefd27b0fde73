/**
 * The session operations: resolve, login, save, logout, revoke, list, reauthenticate and scan.
 * Every call is one round trip (EVALSHA, with EVAL once after NOSCRIPT) through the client adapter,
 * bounded by the store timeout, and fails fast while the client is known to be disconnected.
 * Writes carry the caller's deadline in Redis's clock, so one that runs after the caller gave up is a no-op.
 */
import type { RedisAdapter } from '../clients/adapter';
import { SessionError } from '../errors';
import type { SessionRef } from '../token';
import { indexPattern, keyNamer, userTagOfIndex } from './keys';
import { LIST, LOGIN, LOGOUT, REAUTHENTICATE, REPLY, RESOLVE, REVOKE, SAVE, type Script } from './scripts';
import { decodeListing, decodeSession, compactId, uuidOf, type ListedSession, type StoredSession } from './records';

export type { ListedSession, StoredSession } from './records';

/** Why a session is not live. */
export type EndedCode = 'SESSION_EXPIRED' | 'SESSION_DISPLACED' | 'SESSION_REVOKED' | 'SESSION_INVALID';

/** Resolve's answer: the session, or why there is none. */
export type ResolveResult = StoredSession | EndedCode;

/** What the store needs from the frozen configuration. */
export interface StoreConfig {
  readonly keyPrefix: string;
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly indexTtlMs: number;
  readonly storeTimeoutMs: number;
  /** WAIT after each write that creates or ends a session; null when off. */
  readonly waitForReplicas: { readonly replicas: number; readonly timeoutMs: number } | null;
}

/** A new session's details for `login`. */
export interface NewSession {
  readonly userId: string;
  readonly sessionId: string;
  readonly maxSessions: number;
  readonly onLimit: 'displace-oldest' | 'reject-new';
  /** The token hash of the session the browser held for the same user, ended by this sign-in. */
  readonly previousTokenHash: string | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly data: [string, string][];
}

/** Called after every store call with its name, duration and whether Redis answered. */
export type StoreObserver = (operation: string, seconds: number, ok: boolean) => void;

const CODES: Record<number, EndedCode> = {
  [REPLY.EXPIRED]: 'SESSION_EXPIRED',
  [REPLY.DISPLACED]: 'SESSION_DISPLACED',
  [REPLY.REVOKED]: 'SESSION_REVOKED',
};

/** The session operations, bound to one Redis client and configuration. */
export type SessionStore = ReturnType<typeof createStore>;

/** Builds the store for a manager. Key prefixes and script arguments are computed once, here. */
export function createStore(config: StoreConfig, redis: RedisAdapter, observe?: StoreObserver) {
  const { keyPrefix, storeTimeoutMs, waitForReplicas } = config;
  const idle = String(config.idleMs);
  const absolute = String(config.absoluteMs);
  const indexTtl = String(config.indexTtlMs);
  const keysOf = keyNamer(keyPrefix);
  /** Redis TIME minus the local clock, in ms, learnt from replies that carry Redis's time. */
  let clockOffset = 0;
  /** A write must start in Redis before the caller's timer fires; this margin covers the reply's way back. */
  const margin = Math.min(100, Math.floor(storeTimeoutMs / 4));

  const deadline = (): string => String(Date.now() + clockOffset + storeTimeoutMs - margin);
  const learnClock = (redisNow: number, sentAt: number): void => {
    if (Number.isFinite(redisNow) && redisNow > 0) clockOffset = redisNow - Math.round((sentAt + Date.now()) / 2);
  };

  /** Runs `send` as soon as the connection is ready, but never after the store timeout gave up on it. */
  function whenReady<T>(send: () => Promise<T>, timeoutMs = storeTimeoutMs): Promise<T> {
    const state = redis.state();
    if (state === 'ready') return withTimeout(send(), timeoutMs);
    if (state === 'offline') return Promise.reject(unavailable(new Error('the Redis connection is down')));
    let abandoned = false;
    const call = redis.whenReady().then(() => {
      if (abandoned) throw new Error('abandoned after the store timeout');
      return send();
    });
    return withTimeout(call, timeoutMs, () => {
      abandoned = true;
    });
  }

  async function run(operation: string, script: Script, keys: string[], args: string[]): Promise<unknown> {
    const started = performance.now();
    try {
      const reply = await whenReady(() =>
        redis.evalsha(script.sha, keys, args).catch((err: Error) => {
          if (!String(err?.message).startsWith('NOSCRIPT')) throw err;
          return redis.eval(script.source, keys, args);
        }),
      );
      observe?.(operation, (performance.now() - started) / 1000, true);
      return reply;
    } catch (err) {
      observe?.(operation, (performance.now() - started) / 1000, false);
      throw err;
    }
  }

  /** WAIT for the configured replicas on the node that ran the write; too few acknowledgements fail the call. */
  async function replicate(routingKey: string): Promise<void> {
    if (!waitForReplicas) return;
    const { replicas, timeoutMs } = waitForReplicas;
    const acknowledged = await whenReady(() => redis.wait(routingKey, replicas, timeoutMs), storeTimeoutMs + timeoutMs);
    if (acknowledged < replicas) {
      throw unavailable(new Error(`only ${acknowledged} of ${replicas} replicas acknowledged the write within ${timeoutMs} ms`));
    }
  }

  function late(operation: string): SessionError {
    return unavailable(new Error(`${operation} reached Redis after its deadline and did nothing`));
  }

  /** Ends a session whose sign-in failed after Redis created it (its cookie never went out). Best effort, no WAIT. */
  async function abandon(ref: SessionRef): Promise<void> {
    await run('abandon', LOGOUT, [keysOf(ref.userTag).index], [ref.tokenHash, '0']).catch(() => undefined);
  }

  return {
    /** Looks the session up and, if it is live, refreshes its idle TTL and the index's. */
    async resolve(ref: SessionRef): Promise<ResolveResult> {
      const keys = keysOf(ref.userTag);
      const sentAt = Date.now();
      const reply = await run('resolve', RESOLVE, [keys.index, keys.session(ref.tokenHash), keys.legacyIndex], [ref.tokenHash, idle, indexTtl, absolute]);
      if (typeof reply === 'number') {
        if (CODES[reply]) return CODES[reply];
        throw badReply('resolve', reply);
      }
      const session = decodeSession(reply, config.absoluteMs);
      if (!session) throw badReply('resolve', reply);
      learnClock(session.lastActiveAt, sentAt);
      if (!isPlausible(session)) {
        await run('discard', LOGOUT, [keys.index], [ref.tokenHash, '0']).catch(() => undefined);
        return 'SESSION_INVALID';
      }
      return session;
    },

    /** Makes a new session live for the user under the limit policy. */
    async login(ref: SessionRef, session: NewSession): Promise<{ createdAt: number; absoluteDeadline: number; displaced: string[] } | 'SESSION_LIMIT_REACHED'> {
      const keys = keysOf(ref.userTag);
      const args: string[] = [
        ref.tokenHash, compactId(session.sessionId), session.userId, idle, absolute, indexTtl, String(session.maxSessions),
        session.onLimit === 'reject-new' ? 'r' : 'd', deadline(), session.previousTokenHash ?? '', session.userAgent ?? '', session.ip ?? '',
      ];
      for (const [name, json] of session.data) args.push(DATA_PREFIX + name, json);
      const sentAt = Date.now();
      const reply = await run('login', LOGIN, [keys.index, keys.session(ref.tokenHash), keys.legacySession, keys.legacyIndex], args);
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
      return { createdAt: Number(reply[1]), absoluteDeadline: Number(reply[2]), displaced: reply.slice(3).map((sid) => uuidOf(String(sid))) };
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
      if (typeof reply === 'number' && CODES[reply]) return CODES[reply];
      throw badReply('save', reply);
    },

    /** Ends the session if it is live. True if it was. */
    async logout(ref: SessionRef): Promise<boolean> {
      const keys = keysOf(ref.userTag);
      const reply = await run('logout', LOGOUT, [keys.index], [ref.tokenHash, deadline()]);
      if (reply === REPLY.LATE) throw late('logout');
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
    async reauthenticate(from: SessionRef, to: SessionRef): Promise<number | EndedCode> {
      const keys = keysOf(from.userTag);
      const reply = await run('reauthenticate', REAUTHENTICATE, [keys.index], [from.tokenHash, to.tokenHash, deadline()]);
      if (!Array.isArray(reply) || reply.length === 0) throw badReply('reauthenticate', reply);
      if (reply[0] === REPLY.OK) return Number(reply[1]);
      if (reply[0] === REPLY.LATE) throw late('reauthenticate');
      if (CODES[reply[0] as number]) return CODES[reply[0] as number];
      throw badReply('reauthenticate', reply);
    },

    /** Every user index under the prefix, on every master: user tags a batch at a time (SCAN, never blocking). */
    async *scanUserTags(batch = 250): AsyncIterable<string[]> {
      if (redis.state() !== 'ready') await whenReady(() => Promise.resolve());
      for await (const names of redis.scan(indexPattern(keyPrefix), batch)) {
        yield names.map((name) => userTagOfIndex(keyPrefix, name));
      }
    },
  };
}

const DATA_PREFIX = 'd:';

/** Stored data the package did not write (a missing user, a created time in the future) is not a session. */
function isPlausible(session: StoredSession): boolean {
  return (
    session.userId !== '' &&
    session.sessionId !== '' &&
    Number.isFinite(session.createdAt) &&
    session.createdAt > 0 &&
    session.createdAt <= session.lastActiveAt &&
    session.authenticatedAt >= session.createdAt &&
    session.authenticatedAt <= session.lastActiveAt
  );
}

/** A store failure as the package hands it out: the cause keeps its message, never the command's arguments. */
function unavailable(cause: unknown): SessionError {
  if (cause instanceof SessionError) return cause;
  return new SessionError('SESSION_STORE_UNAVAILABLE', undefined, { cause: withoutArguments(cause) });
}

/** A copy of an error without the command (key names, token hash, user id, data) the client attached. */
function withoutArguments(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause;
  const copy = new Error(cause.message);
  copy.name = cause.name;
  return copy;
}

function badReply(operation: string, reply: unknown): SessionError {
  const shape = Array.isArray(reply) ? `array of ${reply.length}` : typeof reply;
  return unavailable(new TypeError(`unexpected reply to ${operation} from Redis: ${shape}`));
}

/**
 * Settles with the call, or rejects with SESSION_STORE_UNAVAILABLE after `ms` (calling `onTimeout`).
 * A late reply is ignored.
 */
function withTimeout<T>(call: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(unavailable(new Error(`Redis did not answer within ${ms} ms`)));
    }, ms);
    timer.unref();
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(unavailable(err));
      },
    );
  });
}
