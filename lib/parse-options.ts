/**
 * `parseOptions()`: validates the options once, when the manager is created, into the frozen
 * `Config`; every mistake is an `INVALID_OPTIONS` error that says what to fix.
 */
import type { RedisAdapter } from './clients/adapter';
import { adapterFor } from './clients/detect';
import { SessionError } from './errors';
import type { Config, CookieOptions, SessionManagerOptions } from './options';
import { shown } from './shown';
import { closest } from './suggest';
import { createUserTagger } from './token';

const TOP_LEVEL = [
  'redis', 'idleTimeout', 'absoluteTimeout', 'touchAfter', 'localCache', 'indexTtlFactor', 'keyPrefix', 'storeTimeoutMs', 'cookie', 'onError',
  'maxSessions', 'onLimit', 'recordClient', 'waitForReplicas', 'metrics', 'userTagSecret', 'maxDataBytes', 'maxDataFields', 'requestProperty',
  'maxStreamsPerUser',
];
/** The most sessions one user may hold. */
export const MAX_SESSIONS_LIMIT = 1000;
/** The highest `maxStreamsPerUser`. */
const MAX_STREAMS_PER_USER = 10_000;
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
  const redis = adapterFor(options.redis, fail);
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
  const { maxStreamsPerUser = 20 } = options;
  if (!Number.isInteger(maxStreamsPerUser) || maxStreamsPerUser < 1 || maxStreamsPerUser > MAX_STREAMS_PER_USER) {
    fail(`\`maxStreamsPerUser\` must be a whole number from 1 to ${MAX_STREAMS_PER_USER} (live streams one user may hold open); received ${shown(maxStreamsPerUser)}.`);
  }
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
    maxStreamsPerUser,
  });
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
  if (!redis.trackingTarget) {
    const what = redis.isCluster ? `a ${redis.library} Cluster client` : `a ${redis.library} Sentinel client`;
    fail(`\`localCache\` works on a single Redis with ioredis or node-redis, or on Sentinel with ioredis; it is refused on a Cluster (and, for now, on a node-redis Sentinel client), and this is ${what}. Leave localCache off here.`);
  }
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
