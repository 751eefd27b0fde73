/**
 * Options: the public `SessionManagerOptions` type with every option's meaning and default, and the
 * validated, frozen `Config` the rest of the package runs on (built by parse-options.ts).
 */
import type { RedisAdapter } from './clients/adapter';
import type { IoredisClient, NodeRedisClient } from './clients/detect';
import type { SessionError } from './errors';
import type { UserTagger } from './token';

/** Cookie settings. Secure defaults: HttpOnly always, SameSite=Lax, Path=/, Secure on HTTPS. */
export interface CookieOptions {
  /**
   * Cookie name. A name starting with `__Host-` makes the browser enforce Secure, Path=/ and no Domain.
   * The default is `'__Host-ess_sid'` when `secure` is `true` (and `path` is `/` with no `domain`), else `'ess_sid'`.
   * @default 'ess_sid'
   */
  name?: string;
  /**
   * `'auto'` sets Secure when the request came over HTTPS (`req.secure`, which honours Express's `trust proxy`).
   * `false` is an unsafe opt-in for plain-HTTP deployments and logs a warning once.
   * @default 'auto'
   */
  secure?: boolean | 'auto';
  /**
   * SameSite attribute. `'none'` requires `secure: true`.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none';
  /**
   * Path attribute: the cookie is sent only to URLs under this path. Must start with `/`.
   * @default '/'
   */
  path?: string;
  /** Domain attribute; leave unset to scope the cookie to the exact host. @default undefined */
  domain?: string;
  /**
   * `true`: the cookie carries an expiry (the absolute deadline) and survives a browser restart.
   * `false`: a browser-session cookie (no Expires), dropped when the browser closes.
   * @default true
   */
  persistent?: boolean;
}

/** Options of {@link createSessionManager}. Only `redis` is required. */
export interface SessionManagerOptions {
  /**
   * The Redis client the app owns, detected automatically: an ioredis `Redis` (plain or through Sentinel)
   * or `Cluster`, or a node-redis v5 client from `createClient()`, `createCluster()` or `createSentinel()`.
   * Needs Redis 7.0 or later: every script that ends a session announces it with `SPUBLISH` (sharded
   * pub/sub, new in 7.0), so on Redis 6.2 every sign-out, displacement and revocation fails.
   */
  redis: IoredisClient | NodeRedisClient;
  /**
   * Idle timeout in seconds: a session unused this long ends. Every authenticated request refreshes it.
   * At most one year (a larger value is refused: the unit is seconds, not milliseconds).
   * @default 1800
   */
  idleTimeout?: number;
  /**
   * Absolute lifetime in seconds, however active the session is; `false` turns it off.
   * At least `idleTimeout` and at most one year.
   * @default 28800
   */
  absoluteTimeout?: number | false;
  /**
   * Seconds between two refreshes of a session's idle timeout: a request refreshes last-active and the TTLs
   * only when at least this long has passed since the last refresh, and otherwise only reads (plain commands,
   * no script: far cheaper for Redis). A session then expires between `idleTimeout - touchAfter` and
   * `idleTimeout` after its last request. `0` refreshes on every request. The default is 18 s for the
   * default 30-minute `idleTimeout`.
   * @default idleTimeout / 100
   */
  touchAfter?: number;
  /**
   * Keep recently resolved sessions in this process (a bounded LRU of `maxEntries`, default 10,000) and answer
   * repeat requests with one `PING` per batch instead of reads, kept exact by Redis client-side caching
   * (`CLIENT TRACKING`) and a read barrier: a hit is answered once a `PING` sent after the request arrived
   * returned on the connection that receives the invalidations, so no write answered before the request,
   * from any process, is missed; any doubt (reconnect, failover, a lost connection) drops the entries first.
   * Supported on a single Redis with ioredis or node-redis, and on Sentinel with ioredis; refused on a
   * Cluster (either client) and on a node-redis Sentinel client. Needs `touchAfter` above 0.
   * @default false
   */
  localCache?: boolean | { maxEntries?: number };
  /**
   * TTL of the user index as a multiple of `idleTimeout`; at least 1.
   * @default 1.5
   */
  indexTtlFactor?: number;
  /**
   * Prefix of every Redis key this package writes. Must not contain `{` or `}`.
   * @default 'ess:'
   */
  keyPrefix?: string;
  /**
   * Milliseconds to wait for Redis before answering `SESSION_STORE_UNAVAILABLE` (fail closed).
   * @default 1000
   */
  storeTimeoutMs?: number;
  /** Cookie settings. */
  cookie?: CookieOptions;
  /**
   * How many live sessions one user may have: a number from 1 to 1000, or a function of the user id
   * (for example admins 5, everyone else 1) called at each sign-in.
   * @default 1
   */
  maxSessions?: number | ((userId: string) => number);
  /**
   * What a sign-in does when the user already has `maxSessions` live sessions: `'displace-oldest'` ends the
   * least recently created one (the newest sign-in wins); `'reject-new'` makes `login()` reject with
   * `SESSION_LIMIT_REACHED` (409) and keeps the existing sessions.
   * @default 'displace-oldest'
   */
  onLimit?: 'displace-oldest' | 'reject-new';
  /**
   * Record each session's client at sign-in (its `User-Agent`, cut to 256 characters, and `req.ip`) for
   * `listSessions()`; `false` stores neither.
   * @default true
   */
  recordClient?: boolean;
  /**
   * After each write that creates or ends a session (sign-in, sign-out, revocation), `WAIT` until this many
   * replicas acknowledged it, at most `timeoutMs`; if fewer did, the call rejects with
   * `SESSION_STORE_UNAVAILABLE` and no cookie is handed out. Off by default.
   * @default undefined
   */
  waitForReplicas?: { replicas: number; timeoutMs: number };
  /**
   * Prometheus metrics through the app's prom-client `Registry` (prom-client is an optional peer dependency).
   * @default undefined
   */
  metrics?: { registry: unknown };
  /**
   * A secret of at least 32 characters that keys the user tag in the cookie (HMAC-SHA256 of the user id),
   * so a cookie cannot be used to confirm a guessed user id. Setting or changing it ends existing sessions once.
   * @default undefined
   */
  userTagSecret?: string;
  /**
   * Most bytes a session's data may take: UTF-8 field names plus their JSON values, after merging a
   * change with the stored data. Over it, `login()` and `save()` reject with `INVALID_ARGUMENT`.
   * @default 32768
   */
  maxDataBytes?: number;
  /**
   * Most data fields a session may hold. Over it, `login()` and `save()` reject with `INVALID_ARGUMENT`.
   * @default 256
   */
  maxDataFields?: number;
  /**
   * The most live event streams (`liveEvents()`) one user may hold open in this process, across all of the
   * user's sessions: opening one more closes the user's oldest stream, as the per-session cap
   * (`maxStreamsPerSession`) does (no `ended` event; the browser is told to wait 30 s before reconnecting).
   * A whole number from 1 to 10000.
   * @default 20
   */
  maxStreamsPerUser?: number;
  /**
   * The request property the session is put on. Change it only to run beside another library
   * that owns `req.session` (express-session during a migration), e.g. `'account'`; then import
   * from `express-single-session/core` and read the session with `sessions.sessionOf(req)`.
   * @default 'session'
   */
  requestProperty?: string;
  /**
   * Called with every store failure the middleware absorbs (Redis down or slow) and with every
   * session change that was not saved (the session ended during the request: `SESSION_EXPIRED`,
   * `SESSION_DISPLACED`, `SESSION_REVOKED`; `reauthenticate()` in another request moved it to a new
   * token: `SESSION_ROTATED`; a change made after the response ended: `HEADERS_SENT`), so the app can
   * log it. Never receives the secret token.
   * @default undefined
   */
  onError?: (error: SessionError) => void;
}

/** The validated, frozen configuration used at run time. */
export interface Config {
  readonly redis: RedisAdapter;
  readonly maxSessions: number | ((userId: string) => number);
  readonly onLimit: 'displace-oldest' | 'reject-new';
  readonly recordClient: boolean;
  readonly waitForReplicas: { readonly replicas: number; readonly timeoutMs: number } | null;
  readonly metrics: { readonly registry: unknown } | null;
  readonly idleMs: number;
  /** 0 when there is no absolute lifetime. */
  readonly absoluteMs: number;
  readonly indexTtlMs: number;
  /** 0: every request refreshes the session (one script); otherwise requests read with plain commands. */
  readonly touchAfterMs: number;
  readonly localCache: { readonly maxEntries: number } | null;
  readonly keyPrefix: string;
  readonly storeTimeoutMs: number;
  readonly cookie: Readonly<Required<Omit<CookieOptions, 'domain'>>> & { readonly domain?: string };
  /** The user tag function, keyed with `userTagSecret` when set; built once. */
  readonly userTagOf: UserTagger;
  readonly maxDataBytes: number;
  readonly maxDataFields: number;
  readonly onError?: (error: SessionError) => void;
  /** The most live streams one user may hold open in this process. */
  readonly maxStreamsPerUser: number;
  /** Where the session goes on the request: `req[requestProperty]`. */
  readonly requestProperty: string;
}
