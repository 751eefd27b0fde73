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
}

/** Defaults, matching the package's own. */
export const DEFAULTS = { port: 3000, host: '127.0.0.1', idleTimeout: 1800, absoluteTimeout: 28800 } as const;

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

function readAbsolute(value: string | undefined): number | false {
  if (value !== undefined && value.toLowerCase() === 'off') return false;
  return readSeconds('SESSION_ABSOLUTE_TIMEOUT', value, ', or "off" for no absolute limit') ?? DEFAULTS.absoluteTimeout;
}
