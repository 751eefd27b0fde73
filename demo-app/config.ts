/**
 * The demo's settings, read once from the environment. A bad value throws a `DemoConfigError`
 * whose message is one line saying which variable is wrong and what it should be.
 */
import { randomBytes } from 'node:crypto';

/** A setting the demo cannot start with; `message` is meant to be printed as is. */
export class DemoConfigError extends Error {
  override name = 'DemoConfigError';
}

/** What the demo runs with. */
export interface DemoConfig {
  /** Port to listen on; 0 lets the OS pick one (the real port is printed). */
  readonly port: number;
  /** Interface to listen on. */
  readonly host: string;
  /** cookie-parser secret that signs the session cookie. */
  readonly secret: string;
  /** True when no SESSION_SECRET was given and a random one was made for this start. */
  readonly secretIsRandom: boolean;
  /** Idle timeout in seconds (the manager's `idleTimeout`). */
  readonly idleTimeout: number;
  /** Absolute lifetime in seconds, or false when turned off (the manager's `absoluteTimeout`). */
  readonly absoluteTimeout: number | false;
  /** Live sessions one user may have (the manager's `maxSessions`), from SESSION_MAX_SESSIONS. */
  readonly maxSessions: number;
  /** What a sign-in past the limit does (the manager's `onLimit`), from SESSION_ON_LIMIT. */
  readonly onLimit: 'displace-oldest' | 'reject-new';
}

/** Defaults, matching the package's own. */
export const DEFAULTS = { port: 3000, host: '127.0.0.1', idleTimeout: 1800, absoluteTimeout: 28800, maxSessions: 1, onLimit: 'displace-oldest' } as const;

/** The shortest SESSION_SECRET accepted: 32 characters, as iron-session asks. */
export const MIN_SECRET_LENGTH = 32;

const SECONDS = /^\d+(\.\d+)?$/;

/** Reads the demo's settings from `env`. Throws `DemoConfigError` on the first bad value. */
export function readConfig(env: NodeJS.ProcessEnv): DemoConfig {
  const secretGiven = given(env.SESSION_SECRET);
  if (secretGiven !== undefined && secretGiven.length < MIN_SECRET_LENGTH) {
    throw new DemoConfigError(
      `SESSION_SECRET must be at least ${MIN_SECRET_LENGTH} characters long (make one with: openssl rand -hex 32).`,
    );
  }
  return {
    port: readPort(given(env.PORT)),
    host: given(env.HOST) ?? DEFAULTS.host,
    secret: secretGiven ?? randomBytes(32).toString('hex'),
    secretIsRandom: secretGiven === undefined,
    idleTimeout: readSeconds('SESSION_IDLE_TIMEOUT', given(env.SESSION_IDLE_TIMEOUT)) ?? DEFAULTS.idleTimeout,
    absoluteTimeout: readAbsolute(given(env.SESSION_ABSOLUTE_TIMEOUT)),
    maxSessions: readMaxSessions(given(env.SESSION_MAX_SESSIONS)),
    onLimit: readOnLimit(given(env.SESSION_ON_LIMIT)),
  };
}

/** An environment value, with empty strings treated as unset. */
function given(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function readPort(value: string | undefined): number {
  if (value === undefined) return DEFAULTS.port;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new DemoConfigError(`PORT must be a whole number from 0 to 65535; received ${JSON.stringify(value)}.`);
  }
  return port;
}

function readSeconds(name: string, value: string | undefined, alternative = ''): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!SECONDS.test(value) || !(seconds > 0)) {
    throw new DemoConfigError(`${name} must be a positive number of seconds, e.g. 60${alternative}; received ${JSON.stringify(value)}.`);
  }
  return seconds;
}

function readMaxSessions(value: string | undefined): number {
  if (value === undefined) return DEFAULTS.maxSessions;
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > 1000) {
    throw new DemoConfigError(`SESSION_MAX_SESSIONS must be a whole number from 1 to 1000 (live sessions per user); received ${JSON.stringify(value)}.`);
  }
  return count;
}

function readOnLimit(value: string | undefined): DemoConfig['onLimit'] {
  if (value === undefined) return DEFAULTS.onLimit;
  if (value !== 'displace-oldest' && value !== 'reject-new') {
    throw new DemoConfigError(`SESSION_ON_LIMIT must be displace-oldest or reject-new; received ${JSON.stringify(value)}.`);
  }
  return value;
}

function readAbsolute(value: string | undefined): number | false {
  if (value !== undefined && value.toLowerCase() === 'off') return false;
  return readSeconds('SESSION_ABSOLUTE_TIMEOUT', value, ', or "off" for no absolute limit') ?? DEFAULTS.absoluteTimeout;
}
