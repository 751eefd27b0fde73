/**
 * The only module that knows Redis key names and runs the scripts. The rest of the package
 * talks to it through five operations: resolve, login, save, logout and revokeUser.
 * Every call is one round trip (EVALSHA, with EVAL once after NOSCRIPT), bounded by the
 * store timeout, and fails fast while the client is known to be disconnected. A command is only
 * handed to ioredis once its connection is ready: ioredis would otherwise queue it and run it
 * after reconnecting, long after the request was answered 503 (a late login would displace the
 * session Redis kept).
 */
import type { Cluster, Redis } from 'ioredis';
import { publicCause, SessionError } from './errors';
import { LOGIN, LOGOUT, REPLY, RESOLVE, SAVE, type Script } from './scripts';
import type { SessionRef, UserTagger } from './token';

/** A session as Redis holds it; times are ms since the epoch, from Redis's clock. */
export interface StoredSession {
  userId: string;
  sessionId: string;
  createdAt: number;
  lastActiveAt: number;
  /** 0 when there is no absolute lifetime. */
  absoluteDeadline: number;
  /** App data: field name to its JSON text. */
  data: Map<string, string>;
}

/** Resolve's answer: the session, or why there is none. */
export type ResolveResult = StoredSession | 'SESSION_EXPIRED' | 'SESSION_DISPLACED';

/** What the store needs from the frozen configuration. */
export interface StoreConfig {
  readonly redis: Redis | Cluster;
  readonly keyPrefix: string;
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly indexTtlMs: number;
  readonly storeTimeoutMs: number;
  /** The manager's user tag function (keyed when `userTagSecret` is set). */
  readonly userTagOf: UserTagger;
}

const DATA_PREFIX = 'd:';
const OFFLINE = new Set(['reconnecting', 'close', 'end', 'disconnecting']);

/** The session operations, bound to one Redis client and configuration. */
export type SessionStore = ReturnType<typeof createStore>;

/** Builds the store for a manager. Key prefixes and script arguments are computed once, here. */
export function createStore(config: StoreConfig) {
  const { redis, keyPrefix, storeTimeoutMs } = config;
  const idle = String(config.idleMs);
  const absolute = String(config.absoluteMs);
  const indexTtl = String(config.indexTtlMs);

  const keysOf = (userTag: string): [string, string] => [
    `${keyPrefix}{${userTag}}:s`,
    `${keyPrefix}{${userTag}}:u`,
  ];

  let ready: Promise<void> | null = null;
  /** Resolves at the client's next 'ready' event; one shared listener however many requests wait. */
  const nextReady = (): Promise<void> =>
    (ready ??= new Promise<void>((resolve) => {
      redis.once('ready', () => {
        ready = null;
        resolve();
      });
    }));

  /** Runs `send` as soon as the connection is ready, but never after the store timeout gave up on it. */
  function whenReady<T>(send: () => Promise<T>): Promise<T> {
    const status = redis.status;
    if (status === 'ready') return withTimeout(send(), storeTimeoutMs);
    if (OFFLINE.has(status)) return Promise.reject(unavailable(new Error(`Redis connection is ${status}`)));
    if (status === 'wait') redis.connect().catch(() => undefined);
    let abandoned = false;
    const call = nextReady().then(() => {
      if (abandoned) throw new Error('abandoned after the store timeout');
      return send();
    });
    return withTimeout(call, storeTimeoutMs, () => {
      abandoned = true;
    });
  }

  function run(script: Script, keys: [string, string], args: string[]): Promise<unknown> {
    return whenReady(() =>
      redis.evalsha(script.sha, 2, keys[0], keys[1], ...args).catch((err: Error) => {
        if (!String(err?.message).startsWith('NOSCRIPT')) throw err;
        return redis.eval(script.source, 2, keys[0], keys[1], ...args);
      }),
    );
  }

  return {
    /** Looks the session up and, if it is live and current, refreshes its idle TTL and the index's. */
    async resolve(ref: SessionRef): Promise<ResolveResult> {
      const reply = await run(RESOLVE, keysOf(ref.userTag), [ref.tokenHash, idle, indexTtl, absolute]);
      if (reply === REPLY.EXPIRED) return 'SESSION_EXPIRED';
      if (reply === REPLY.DISPLACED) return 'SESSION_DISPLACED';
      return decodeSession(reply, config.absoluteMs);
    },

    /** Makes a new session the user's only one, displacing any previous one. */
    async login(
      ref: SessionRef,
      userId: string,
      sessionId: string,
      data: [string, string][],
    ): Promise<{ createdAt: number; absoluteDeadline: number }> {
      const args: string[] = [ref.tokenHash, compactUuid(sessionId), userId, idle, absolute, indexTtl];
      for (const [name, json] of data) args.push(DATA_PREFIX + name, json);
      const reply = await run(LOGIN, keysOf(ref.userTag), args);
      if (!Array.isArray(reply) || reply.length !== 2) throw badReply('login', reply);
      return { createdAt: Number(reply[0]), absoluteDeadline: Number(reply[1]) };
    },

    /** Writes changed data fields, only if the session is still the user's current one. */
    async save(ref: SessionRef, set: [string, string][], remove: string[]): Promise<'OK' | 'SESSION_EXPIRED' | 'SESSION_DISPLACED'> {
      const args: string[] = [ref.tokenHash, String(set.length)];
      for (const [name, json] of set) args.push(DATA_PREFIX + name, json);
      for (const name of remove) args.push(DATA_PREFIX + name);
      const reply = await run(SAVE, keysOf(ref.userTag), args);
      if (reply === REPLY.OK) return 'OK';
      if (reply === REPLY.EXPIRED) return 'SESSION_EXPIRED';
      if (reply === REPLY.DISPLACED) return 'SESSION_DISPLACED';
      throw badReply('save', reply);
    },

    /** Ends the session, unless a newer login already replaced it. True if it was deleted. */
    async logout(ref: SessionRef): Promise<boolean> {
      return (await run(LOGOUT, keysOf(ref.userTag), [ref.tokenHash])) === 1;
    },

    /** Ends whatever session the user has. True if there was one. */
    async revokeUser(userId: string): Promise<boolean> {
      const [session, index] = keysOf(config.userTagOf(userId));
      const deleted = await whenReady(() => redis.del(session, index));
      return Number(deleted) > 0;
    },
  };
}

/** Decodes resolve's JSON reply `[now, field, value, ...]`; any other shape is a store failure. */
function decodeSession(reply: unknown, absoluteMs: number): StoredSession {
  let items: unknown = null;
  try {
    if (typeof reply === 'string') items = JSON.parse(reply);
  } catch {
    // reported below as a bad reply
  }
  if (!Array.isArray(items) || items.length % 2 !== 1) throw badReply('resolve', reply);
  const session: StoredSession = {
    userId: '',
    sessionId: '',
    createdAt: 0,
    lastActiveAt: Number(items[0]),
    absoluteDeadline: 0,
    data: new Map(),
  };
  for (let i = 1; i < items.length; i += 2) {
    const name = items[i] as string;
    const value = items[i + 1] as string;
    if (name === 'u') session.userId = value;
    else if (name === 'i') session.sessionId = uuidOf(value);
    else if (name === 'c') session.createdAt = Number(value);
    else if (name.startsWith(DATA_PREFIX)) session.data.set(name.slice(DATA_PREFIX.length), value);
  }
  if (absoluteMs > 0) session.absoluteDeadline = session.createdAt + absoluteMs;
  return session;
}

/** A UUID as stored: its 16 bytes in base64url (22 characters instead of 36). */
function compactUuid(uuid: string): string {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
}

/** The UUID text of a stored session id. */
function uuidOf(compact: string): string {
  const hex = Buffer.from(compact, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function unavailable(cause: unknown): SessionError {
  if (cause instanceof SessionError) return cause;
  return new SessionError('SESSION_STORE_UNAVAILABLE', undefined, { cause: publicCause(cause) });
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
