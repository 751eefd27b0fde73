/**
 * Options: the public `SessionManagerOptions` type, its defaults, and `parseOptions()`,
 * which validates them once, when the manager is created, into a frozen `Config`.
 */
import type { RedisAdapter } from './clients/adapter';
import { adapterFor, type IoredisClient, type NodeRedisClient } from './clients/detect';
import { SessionError } from './errors';

/** Cookie settings. Secure defaults: HttpOnly always, SameSite=Lax, Path=/, Secure on HTTPS. */
export interface CookieOptions {
  /**
   * Cookie name. A name starting with `__Host-` makes the browser enforce Secure, Path=/ and no Domain.
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
}

/** Options of {@link createSessionManager}. Only `redis` is required. */
export interface SessionManagerOptions {
  /**
   * The Redis client the app owns, detected automatically: an ioredis `Redis` (plain or through Sentinel)
   * or `Cluster`, or a node-redis v5 client from `createClient()`, `createCluster()` or `createSentinel()`.
   */
  redis: IoredisClient | NodeRedisClient;
  /**
   * Idle timeout in seconds: a session unused this long ends. Every authenticated request refreshes it.
   * @default 1800
   */
  idleTimeout?: number;
  /**
   * Absolute lifetime in seconds, however active the session is; `false` turns it off.
   * @default 28800
   */
  absoluteTimeout?: number | false;
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
   * Called with every store failure the middleware absorbs (Redis down or slow) and with data
   * that could not be auto-saved, so the app can log it. Never receives the secret token.
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
  readonly keyPrefix: string;
  readonly storeTimeoutMs: number;
  readonly cookie: Readonly<Required<Omit<CookieOptions, 'domain'>>> & { readonly domain?: string };
  readonly onError?: (error: SessionError) => void;
}

const TOP_LEVEL = [
  'redis', 'idleTimeout', 'absoluteTimeout', 'indexTtlFactor', 'keyPrefix', 'storeTimeoutMs', 'cookie', 'onError',
  'maxSessions', 'onLimit', 'recordClient', 'waitForReplicas', 'metrics',
];
/** The most sessions one user may hold. */
export const MAX_SESSIONS_LIMIT = 1000;
const COOKIE_KEYS = ['name', 'secure', 'sameSite', 'path', 'domain'];
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function fail(message: string): never {
  throw new SessionError('INVALID_OPTIONS', message);
}

function checkKeys(given: object, allowed: string[], where: string): void {
  for (const key of Object.keys(given)) {
    if (allowed.includes(key)) continue;
    const hint = allowed.find((name) => name.toLowerCase() === key.toLowerCase());
    fail(`received an unsupported option \`${where}${key}\`.${hint ? ` Did you mean \`${where}${hint}\`?` : ` Supported: ${allowed.join(', ')}.`}`);
  }
}

function seconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`\`${name}\` must be a positive number of seconds; received ${JSON.stringify(value)}.`);
  }
  return Math.max(1, Math.round(value * 1000));
}

/** Validates options once and returns the frozen run-time configuration. Throws `INVALID_OPTIONS`. */
export function parseOptions(options: SessionManagerOptions): Config {
  if (options === null || typeof options !== 'object') fail('createSessionManager() needs an options object with at least `redis`.');
  checkKeys(options, TOP_LEVEL, '');
  const redis = adapterFor(options.redis, fail);
  const idleMs = seconds(options.idleTimeout, 'idleTimeout', 1_800_000);
  const absoluteMs = options.absoluteTimeout === false ? 0 : seconds(options.absoluteTimeout, 'absoluteTimeout', 28_800_000);
  const factor = options.indexTtlFactor ?? 1.5;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    fail(`\`indexTtlFactor\` must be a number of at least 1; received ${JSON.stringify(factor)}.`);
  }
  const keyPrefix = options.keyPrefix ?? 'ess:';
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix) || keyPrefix.length > 64) {
    fail('`keyPrefix` must be a string of at most 64 characters without `{` or `}` (they are used as the cluster hash tag).');
  }
  const storeTimeoutMs = options.storeTimeoutMs ?? 1000;
  if (!Number.isInteger(storeTimeoutMs) || storeTimeoutMs < 1 || storeTimeoutMs > 60_000) {
    fail(`\`storeTimeoutMs\` must be a whole number of milliseconds from 1 to 60000; received ${JSON.stringify(storeTimeoutMs)}.`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') fail('`onError` must be a function.');
  const { maxSessions = 1, onLimit = 'displace-oldest', recordClient = true } = options;
  if (typeof maxSessions !== 'function') checkMaxSessions(maxSessions, fail);
  if (onLimit !== 'displace-oldest' && onLimit !== 'reject-new') fail(`\`onLimit\` must be 'displace-oldest' or 'reject-new'; received ${JSON.stringify(onLimit)}.`);
  if (typeof recordClient !== 'boolean') fail('`recordClient` must be true or false.');
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
    keyPrefix,
    storeTimeoutMs,
    cookie: parseCookie(options.cookie ?? {}),
    onError: options.onError && reportSafely(options.onError),
  });
}

/** Checks a `maxSessions` number; `report` turns a mistake into the right error (options or a user's limit). */
export function checkMaxSessions(value: unknown, report: (message: string) => never): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_SESSIONS_LIMIT) {
    report(`\`maxSessions\` must be a whole number from 1 to ${MAX_SESSIONS_LIMIT} (or a function of the user id returning one); received ${JSON.stringify(value)}.`);
  }
  return value as number;
}

function parseWaitForReplicas(value: SessionManagerOptions['waitForReplicas']): Config['waitForReplicas'] {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') fail('`waitForReplicas` must be `{ replicas, timeoutMs }`.');
  checkKeys(value, ['replicas', 'timeoutMs'], 'waitForReplicas.');
  const { replicas, timeoutMs } = value;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 100) fail(`\`waitForReplicas.replicas\` must be a whole number from 1 to 100; received ${JSON.stringify(replicas)}.`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    fail(`\`waitForReplicas.timeoutMs\` must be a whole number of milliseconds from 1 to 60000; received ${JSON.stringify(timeoutMs)}.`);
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
  const { name = 'ess_sid', secure = 'auto', sameSite = 'lax', path = '/', domain } = cookie;
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) fail(`\`cookie.name\` must be a valid cookie name; received ${JSON.stringify(name)}.`);
  if (secure !== true && secure !== false && secure !== 'auto') fail("`cookie.secure` must be true, false or 'auto'.");
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') fail("`cookie.sameSite` must be 'lax', 'strict' or 'none'.");
  if (typeof path !== 'string' || !path.startsWith('/')) fail('`cookie.path` must be a string starting with `/`.');
  if (domain !== undefined && (typeof domain !== 'string' || domain === '')) fail('`cookie.domain` must be a non-empty string.');
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
  return Object.freeze({ name, secure, sameSite, path, domain });
}
