/**
 * Options: the public `SessionManagerOptions` type, its defaults, and `parseOptions()`,
 * which validates them once, when the manager is created, into a frozen `Config`.
 */
import type { Cluster, Redis } from 'ioredis';
import { SessionError } from './errors';
import { closest } from './suggest';

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
  readonly redis: Redis | Cluster;
  readonly idleMs: number;
  /** 0 when there is no absolute lifetime. */
  readonly absoluteMs: number;
  readonly indexTtlMs: number;
  readonly keyPrefix: string;
  readonly storeTimeoutMs: number;
  readonly cookie: Readonly<Required<Omit<CookieOptions, 'domain'>>> & { readonly domain?: string };
  readonly onError?: (error: SessionError) => void;
  /** Where the session goes on the request: `req[requestProperty]`. */
  readonly requestProperty: string;
}

const TOP_LEVEL = ['redis', 'idleTimeout', 'absoluteTimeout', 'indexTtlFactor', 'keyPrefix', 'storeTimeoutMs', 'cookie', 'onError', 'requestProperty'];
/** Properties Express, cookie-parser or this package already put on the request. */
const TAKEN_REQUEST_PROPERTIES = new Set([
  'app', 'baseUrl', 'body', 'cookies', 'fresh', 'headers', 'host', 'hostname', 'ip', 'ips', 'method', 'originalUrl', 'params',
  'path', 'protocol', 'query', 'res', 'route', 'secret', 'secure', 'signedCookies', 'stale', 'subdomains', 'url', 'xhr',
  'sessionErrorCode', '__proto__', 'constructor', 'prototype',
]);
const COOKIE_KEYS = ['name', 'secure', 'sameSite', 'path', 'domain'];
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
    fail(`\`${name}\` must be a positive number of seconds; received ${JSON.stringify(value)}.`);
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
  const { redis } = options;
  if (!redis || typeof (redis as Redis).evalsha !== 'function' || typeof (redis as Redis).status !== 'string') {
    fail('`redis` must be an ioredis client (new Redis(...) or new Cluster(...)) that the app owns.');
  }
  const idleMs = seconds(options.idleTimeout, 'idleTimeout', 1_800_000);
  const absoluteMs = options.absoluteTimeout === false ? 0 : seconds(options.absoluteTimeout, 'absoluteTimeout', 28_800_000);
  if (absoluteMs > 0 && absoluteMs < idleMs) {
    const given = options.absoluteTimeout === undefined ? ' (the default)' : '';
    fail(`\`absoluteTimeout\` (${absoluteMs / 1000} s${given}) is shorter than \`idleTimeout\` (${idleMs / 1000} s), so the idle timeout could never apply. `
      + `Both are in seconds: set \`absoluteTimeout\` to at least ${idleMs / 1000}, or to false for no absolute limit.`);
  }
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
  const requestProperty = options.requestProperty ?? 'session';
  if (typeof requestProperty !== 'string' || !/^[A-Za-z_$][\w$]{0,63}$/.test(requestProperty) || TAKEN_REQUEST_PROPERTIES.has(requestProperty)) {
    fail(`\`requestProperty\` must be a free identifier for the request, such as 'account'; received ${JSON.stringify(requestProperty)}.`);
  }
  return Object.freeze({
    redis,
    idleMs,
    absoluteMs,
    indexTtlMs: Math.round(idleMs * factor),
    keyPrefix,
    storeTimeoutMs,
    cookie: parseCookie(options.cookie ?? {}),
    onError: options.onError && reportSafely(options.onError),
    requestProperty,
  });
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
