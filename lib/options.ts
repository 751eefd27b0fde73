/**
 * Options: the public `SessionManagerOptions` type, its defaults, and `parseOptions()`,
 * which validates them once, when the manager is created, into a frozen `Config`.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisAdapter } from './clients/adapter';
import { ioredisAdapter, isIoredis } from './clients/ioredis';
import { SessionError } from './errors';
import { createUserTagger, type UserTagger } from './token';
import { shown, objectKind } from './shown';
import { closest } from './suggest';

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
  /** An ioredis client the app owns: a `Redis` (plain or through Sentinel) or a `Cluster`. */
  redis: Redis | Cluster;
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
   * repeat requests without Redis, kept exact by Redis client-side caching (`CLIENT TRACKING`): any change to a
   * user's keys from any process, and any doubt (reconnect, failover, lost listener), drops the entries first.
   * Needs a single Redis or a Sentinel-managed client (not a Cluster) and `touchAfter` above 0.
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
   * The request property the session is put on. Change it only to run beside another library
   * that owns `req.session` (express-session during a migration), e.g. `'account'`; then import
   * from `express-single-session/core` and read the session with `sessions.sessionOf(req)`.
   * @default 'session'
   */
  requestProperty?: string;
  /**
   * Called with every store failure the middleware absorbs (Redis down or slow) and with every
   * session change that was not saved (the session ended during the request: `SESSION_EXPIRED`,
   * `SESSION_DISPLACED`; a change made after the response ended: `HEADERS_SENT`), so the app can
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
  /** Where the session goes on the request: `req[requestProperty]`. */
  readonly requestProperty: string;
}

const TOP_LEVEL = [
  'redis', 'idleTimeout', 'absoluteTimeout', 'touchAfter', 'localCache', 'indexTtlFactor', 'keyPrefix', 'storeTimeoutMs', 'cookie', 'onError',
  'maxSessions', 'onLimit', 'recordClient', 'waitForReplicas', 'metrics', 'userTagSecret', 'maxDataBytes', 'maxDataFields', 'requestProperty',
];
/** The most sessions one user may hold. */
export const MAX_SESSIONS_LIMIT = 1000;
const COOKIE_KEYS = ['name', 'secure', 'sameSite', 'path', 'domain', 'persistent'];
const MIN_TAG_SECRET = 32;
/** Properties Express, cookie-parser or this package already put on the request. */
const TAKEN_REQUEST_PROPERTIES = new Set([
  'app', 'baseUrl', 'body', 'cookies', 'fresh', 'headers', 'host', 'hostname', 'ip', 'ips', 'method', 'originalUrl', 'params',
  'path', 'protocol', 'query', 'res', 'route', 'secret', 'secure', 'signedCookies', 'stale', 'subdomains', 'url', 'xhr',
  'sessionErrorCode', '__proto__', 'constructor', 'prototype',
]);
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function fail(message: string): never {
  throw new SessionError('INVALID_OPTIONS', message);
}

/**
 * Refuses any key of `given` not in `allowed`, suggesting the option the caller most likely meant.
 * `where` prefixes nested names (`cookie.`); `caller` names the function in the message.
 */
export function checkKeys(given: object, allowed: string[], where: string, caller = ''): void {
  for (const key of Object.keys(given)) {
    if (allowed.includes(key)) continue;
    const hint = closest(key, allowed);
    fail(`${caller}received an unsupported option \`${where}${key}\`.${hint ? ` Did you mean \`${where}${hint}\`?` : ` Supported: ${allowed.join(', ')}.`}`);
  }
}

/** One year: no session timeout is longer; a larger value is almost certainly milliseconds. */
const YEAR_SECONDS = 365 * 24 * 3600;

function seconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`\`${name}\` must be a positive number of seconds; received ${shown(value)}.`);
  }
  if (value > YEAR_SECONDS) {
    fail(`\`${name}\` is ${value} seconds, more than a year. The unit is seconds, not milliseconds: did you mean ${name}: ${Math.round(value / 1000)}?`);
  }
  return Math.max(1, Math.round(value * 1000));
}

/** Validates options once and returns the frozen run-time configuration. Throws `INVALID_OPTIONS`. */
export function parseOptions(options: SessionManagerOptions): Config {
  if (options === null || typeof options !== 'object') fail('createSessionManager() needs an options object with at least `redis`.');
  checkKeys(options, TOP_LEVEL, '');
  const redis = adapterFor(options.redis);
  const idleMs = seconds(options.idleTimeout, 'idleTimeout', 1_800_000);
  const absoluteMs = options.absoluteTimeout === false ? 0 : seconds(options.absoluteTimeout, 'absoluteTimeout', 28_800_000);
  if (absoluteMs > 0 && absoluteMs < idleMs) {
    const given = options.absoluteTimeout === undefined ? ' (the default)' : '';
    fail(`\`absoluteTimeout\` (${absoluteMs / 1000} s${given}) is shorter than \`idleTimeout\` (${idleMs / 1000} s), so the idle timeout could never apply. `
      + `Both are in seconds: set \`absoluteTimeout\` to at least ${idleMs / 1000}, or to false for no absolute limit.`);
  }
  const touchAfter = options.touchAfter ?? idleMs / 100_000;
  if (typeof touchAfter !== 'number' || !Number.isFinite(touchAfter) || touchAfter < 0 || touchAfter * 1000 >= idleMs) {
    fail(`\`touchAfter\` must be a number of seconds from 0 (refresh on every request) to less than \`idleTimeout\`; received ${shown(touchAfter)}.`);
  }
  const factor = options.indexTtlFactor ?? 1.5;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    fail(`\`indexTtlFactor\` must be a number of at least 1; received ${shown(factor)}.`);
  }
  const keyPrefix = options.keyPrefix ?? 'ess:';
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix) || keyPrefix.length > 64) {
    fail('`keyPrefix` must be a string of at most 64 characters without `{` or `}` (they are used as the cluster hash tag).');
  }
  const storeTimeoutMs = options.storeTimeoutMs ?? 1000;
  if (!Number.isInteger(storeTimeoutMs) || storeTimeoutMs < 1 || storeTimeoutMs > 60_000) {
    fail(`\`storeTimeoutMs\` must be a whole number of milliseconds from 1 to 60000; received ${shown(storeTimeoutMs)}.`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') fail('`onError` must be a function.');
  const requestProperty = options.requestProperty ?? 'session';
  if (typeof requestProperty !== 'string' || !/^[A-Za-z_$][\w$]{0,63}$/.test(requestProperty) || TAKEN_REQUEST_PROPERTIES.has(requestProperty)) {
    fail(`\`requestProperty\` must be a free identifier for the request, such as 'account'; received ${shown(requestProperty)}.`);
  }
  const { maxSessions = 1, onLimit = 'displace-oldest', recordClient = true } = options;
  if (typeof maxSessions !== 'function') checkMaxSessions(maxSessions, fail);
  if (onLimit !== 'displace-oldest' && onLimit !== 'reject-new') fail(`\`onLimit\` must be 'displace-oldest' or 'reject-new'; received ${shown(onLimit)}.`);
  if (typeof recordClient !== 'boolean') fail('`recordClient` must be true or false.');
  const { userTagSecret } = options;
  if (userTagSecret !== undefined && (typeof userTagSecret !== 'string' || userTagSecret.length < MIN_TAG_SECRET)) {
    fail(`\`userTagSecret\` must be a string of at least ${MIN_TAG_SECRET} characters (for example crypto.randomBytes(32).toString('base64url')).`);
  }
  return Object.freeze({
    redis,
    maxSessions,
    onLimit,
    recordClient,
    waitForReplicas: parseWaitForReplicas(options.waitForReplicas),
    metrics: parseMetrics(options.metrics),
    idleMs,
    absoluteMs,
    indexTtlMs: Math.round(idleMs * factor),
    touchAfterMs: Math.round(touchAfter * 1000),
    localCache: parseLocalCache(options.localCache, redis, touchAfter),
    keyPrefix,
    storeTimeoutMs,
    cookie: parseCookie(options.cookie ?? {}),
    onError: options.onError && reportSafely(options.onError),
    userTagOf: createUserTagger(userTagSecret),
    maxDataBytes: limit(options.maxDataBytes, 'maxDataBytes', 32_768),
    maxDataFields: limit(options.maxDataFields, 'maxDataFields', 256),
    requestProperty,
  });
}

/** The adapter for the client the app passed; anything that is not a supported client is refused. */
function adapterFor(client: unknown): RedisAdapter {
  if (isIoredis(client)) return ioredisAdapter(client);
  const got = client === null || typeof client !== 'object' ? shown(client) : objectKind(client);
  return fail(`\`redis\` must be an ioredis client (new Redis(...) or new Cluster(...)) that the app owns; received ${got}.`);
}

/** Checks a `maxSessions` number; `report` turns a mistake into the right error (options or a user's limit). */
export function checkMaxSessions(value: unknown, report: (message: string) => never): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_SESSIONS_LIMIT) {
    report(`\`maxSessions\` must be a whole number from 1 to ${MAX_SESSIONS_LIMIT} (or a function of the user id returning one); received ${shown(value)}.`);
  }
  return value as number;
}

function parseLocalCache(value: SessionManagerOptions['localCache'], redis: RedisAdapter, touchAfter: number): Config['localCache'] {
  if (value === undefined || value === false) return null;
  let maxEntries = 10_000;
  if (value !== true) {
    if (value === null || typeof value !== 'object') fail('`localCache` must be true, false or `{ maxEntries }`.');
    checkKeys(value, ['maxEntries'], 'localCache.');
    maxEntries = value.maxEntries ?? maxEntries;
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 10_000_000) {
      fail(`\`localCache.maxEntries\` must be a whole number from 1 to 10000000; received ${shown(maxEntries)}.`);
    }
  }
  if (!redis.tracked) fail(`\`localCache\` needs a single Redis or a Sentinel-managed client; this ${redis.library} ${redis.isCluster ? 'Cluster ' : ''}client cannot track keys for it. Leave localCache off with a Cluster.`);
  if (touchAfter === 0) fail('`localCache` needs `touchAfter` above 0: with 0 every request refreshes the session in Redis, so nothing could be served locally.');
  return Object.freeze({ maxEntries });
}

function parseWaitForReplicas(value: SessionManagerOptions['waitForReplicas']): Config['waitForReplicas'] {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') fail('`waitForReplicas` must be `{ replicas, timeoutMs }`.');
  checkKeys(value, ['replicas', 'timeoutMs'], 'waitForReplicas.');
  const { replicas, timeoutMs } = value;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 100) fail(`\`waitForReplicas.replicas\` must be a whole number from 1 to 100; received ${shown(replicas)}.`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    fail(`\`waitForReplicas.timeoutMs\` must be a whole number of milliseconds from 1 to 60000; received ${shown(timeoutMs)}.`);
  }
  return Object.freeze({ replicas, timeoutMs });
}

function parseMetrics(value: SessionManagerOptions['metrics']): Config['metrics'] {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') fail('`metrics` must be `{ registry }` with a prom-client Registry.');
  checkKeys(value, ['registry'], 'metrics.');
  const { registry } = value as { registry?: { registerMetric?: unknown } };
  if (!registry || typeof registry.registerMetric !== 'function') fail('`metrics.registry` must be a prom-client Registry (new Registry() or the default `register`).');
  return Object.freeze({ registry });
}

function limit(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail(`\`${name}\` must be a whole number of at least 1; received ${shown(value)}.`);
  }
  return value;
}

/** The app's error hook, made unable to break a request: an exception it throws is dropped. */
function reportSafely(onError: (error: SessionError) => void): (error: SessionError) => void {
  return (error) => {
    try {
      onError(error);
    } catch {
      // A failing logger must not turn into an unhandled rejection or a failed request.
    }
  };
}

function parseCookie(cookie: CookieOptions): Config['cookie'] {
  if (cookie === null || typeof cookie !== 'object') fail('`cookie` must be an object.');
  checkKeys(cookie, COOKIE_KEYS, 'cookie.');
  const { secure = 'auto', sameSite = 'lax', path = '/', domain, persistent = true } = cookie;
  // Where the browser will accept it, the default name is `__Host-`: Secure, this host only, Path=/.
  const name = cookie.name ?? (secure === true && path === '/' && domain === undefined ? '__Host-ess_sid' : 'ess_sid');
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) fail(`\`cookie.name\` must be a valid cookie name; received ${shown(name)}.`);
  if (secure !== true && secure !== false && secure !== 'auto') fail("`cookie.secure` must be true, false or 'auto'.");
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') fail("`cookie.sameSite` must be 'lax', 'strict' or 'none'.");
  if (typeof path !== 'string' || !path.startsWith('/')) fail('`cookie.path` must be a string starting with `/`.');
  if (domain !== undefined && (typeof domain !== 'string' || domain === '')) fail('`cookie.domain` must be a non-empty string.');
  if (typeof persistent !== 'boolean') fail('`cookie.persistent` must be true or false.');
  if (sameSite === 'none' && secure !== true) fail("`cookie.sameSite: 'none'` requires `cookie.secure: true`; browsers reject it otherwise.");
  if (name.startsWith('__Host-') && (secure === false || path !== '/' || domain !== undefined)) {
    fail('a `__Host-` cookie needs `secure` true or \'auto\', `path` \'/\' and no `domain`.');
  }
  if (name.startsWith('__Secure-') && secure === false) fail('a `__Secure-` cookie needs `secure` true or \'auto\'.');
  if (secure === false) {
    process.emitWarning('express-single-session: cookie.secure is false; the session cookie will also be sent over plain HTTP.', {
      code: 'ESS_INSECURE_COOKIE',
    });
  }
  return Object.freeze({ name, secure, sameSite, path, domain, persistent });
}
