/**
 * The store operations of the express-session Store: one pointer key per express-session id (by the hash
 * of the id, never the id), and `bind`, which makes an id a package session of its user under the limit
 * policy (scripts/express-session.ts). Everything else on a bound session goes through store.ts.
 */
import type { RedisAdapter } from '../clients/adapter';
import type { SessionRef } from '../token';
import { badReply, createCalls, unavailable, type StoreObserver } from './calls';
import { keyNamer } from './keys';
import { endedCode, type EndedCode } from './reads';
import { sessionIdOf, uuidOf, DATA_PREFIX } from './records';
import { LOGOUT, REPLY } from './scripts';
import { BIND, BOUND, DESTROY_PLAIN, POINT, SET_PLAIN, TOUCH_PLAIN } from './scripts/express-session';
import type { NewSession, StoreConfig } from './store';

/** What a pointer key holds: a session with no user (its JSON), a bound session's user tag, or a destroyed id. */
export type Pointer = { readonly plain: string } | { readonly userTag: string } | 'DESTROYED' | null;

/** `bind`'s answer: the new session, or why none was created. */
export type BindResult =
  | { readonly sessionId: string; readonly displaced: string[] }
  | 'SESSION_LIMIT_REACHED'
  | 'BOUND'
  | EndedCode;

/** Decodes a pointer key's value. */
function pointerOf(value: unknown): Pointer {
  if (typeof value !== 'string') return null;
  if (value.startsWith('@')) return { userTag: value.slice(1) };
  if (value === '!') return 'DESTROYED';
  return { plain: value };
}

/** The pointer key of the express-session id whose hash is `hash`, under `prefix`. */
export function pointerKey(prefix: string, hash: string): string {
  return `${prefix}es:${hash}`;
}

/** The pointer operations over one client and prefix. */
export function createPointerStore(config: StoreConfig, redis: RedisAdapter, observe?: StoreObserver) {
  const { keyPrefix } = config;
  const pointerPrefix = pointerKey(keyPrefix, '');
  const keyOf = (hash: string): string => pointerKey(keyPrefix, hash);
  const keysOf = keyNamer(keyPrefix);
  const calls = createCalls(redis, config.storeTimeoutMs, config.waitForReplicas, observe);
  const { run } = calls;

  /** A script reply that is 1, 0 or a pointer value. */
  function decode(operation: string, reply: unknown): 'OK' | 'NONE' | Pointer {
    if (reply === 1) return 'OK';
    if (reply === 0) return 'NONE';
    if (typeof reply === 'string') return pointerOf(reply);
    throw badReply(operation, reply);
  }

  return {
    /** The pointer of the id with this hash. */
    async read(hash: string): Promise<Pointer> {
      const [value] = await calls.timed('get', () => redis.pipeline([['GET', keyOf(hash)]]));
      return pointerOf(value);
    },

    /** Writes a session with no user; answers the pointer instead when the id is bound or destroyed. */
    setPlain: async (hash: string, json: string, ttlMs: number) => decode('set', await run('set', SET_PLAIN, [keyOf(hash)], [json, String(ttlMs)])),

    /** Refreshes a session with no user; answers the pointer instead when the id is bound or destroyed. */
    touchPlain: async (hash: string, cookieJson: string, ttlMs: number) => decode('touch', await run('touch', TOUCH_PLAIN, [keyOf(hash)], [cookieJson, String(ttlMs)])),

    /** Marks the id destroyed unless it is bound (then answers its pointer). */
    destroyPlain: async (hash: string, ttlMs: number) => decode('destroy', await run('destroy', DESTROY_PLAIN, [keyOf(hash)], [String(ttlMs)])),

    /** Points the id at its user's bound session; false when it was destroyed meanwhile. */
    async point(hash: string, userTag: string, ttlMs: number): Promise<boolean> {
      return (await run('point', POINT, [keyOf(hash)], [`@${userTag}`, String(ttlMs)])) === 1;
    },

    /** Keeps a bound id's pointer as long as its session may live. */
    async expire(hash: string, ttlMs: number): Promise<void> {
      await calls.timed('touch', () => redis.pipeline([['PEXPIRE', keyOf(hash), String(ttlMs)]]));
    },

    /** Deletes pointer keys (for `clear`), one at a time: on a Cluster each has its own slot. */
    async remove(hashes: string[]): Promise<void> {
      await Promise.all(hashes.map((hash) => calls.timed('clear', () => redis.pipeline([['DEL', keyOf(hash)]]))));
    },

    /** The hashes of every id under the prefix, a batch at a time (SCAN on every master). */
    async *scan(batch = 250): AsyncIterable<string[]> {
      const pattern = `${pointerPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
      const steps = redis.scan(pattern, batch)[Symbol.asyncIterator]();
      for (;;) {
        const step = await calls.whenReady(() => steps.next());
        if (step.done) return;
        yield step.value.map((name) => name.slice(pointerPrefix.length));
      }
    },

    /**
     * Makes the id (`ref.tokenHash` is its hash) a live session of `session.userId` under the limit policy,
     * atomically; never an id the user's index already knows (a live one answers 'BOUND', an ended one its end).
     */
    async bind(ref: SessionRef, session: NewSession): Promise<BindResult> {
      const keys = keysOf(ref.userTag);
      const args: string[] = [
        ref.tokenHash, session.userId, String(config.idleMs), String(config.absoluteMs), String(config.indexTtlMs), String(session.maxSessions),
        session.onLimit === 'reject-new' ? 'r' : 'd', calls.deadline(), '', session.userAgent ?? '', session.ip ?? '',
      ];
      for (const [name, json] of session.data) args.push(DATA_PREFIX + name, json);
      const reply = await run('login', BIND, [keys.index, keys.session(ref.tokenHash)], args);
      if (!Array.isArray(reply) || reply.length === 0) throw badReply('login', reply);
      if (reply[0] === BOUND) return 'BOUND';
      if (reply[0] === REPLY.LIMIT) return 'SESSION_LIMIT_REACHED';
      if (reply[0] === REPLY.LATE) throw unavailable(new Error('login reached Redis after its deadline and did nothing'));
      const ended = reply.length === 1 ? endedCode(reply[0]) : undefined;
      if (ended) return ended;
      if (reply[0] !== REPLY.OK || reply.length < 3) throw badReply('login', reply);
      try {
        await calls.replicate(keys.index);
      } catch (err) {
        // The save fails and its id is never pointed at: the session must not count against the limit.
        await run('abandon', LOGOUT, [keys.index], [ref.tokenHash, '0', 'L']).catch(() => undefined);
        throw err;
      }
      return { sessionId: sessionIdOf(ref.tokenHash), displaced: reply.slice(3).map((sid) => uuidOf(String(sid))) };
    },
  };
}

/** The pointer operations of one Store. */
export type PointerStore = ReturnType<typeof createPointerStore>;
