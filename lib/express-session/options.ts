/** The options of `createSessionStore()`: the manager's that apply to a Store, plus `userOf`, validated once. */
import { SessionError } from '../errors';
import type { Config, SessionManagerOptions } from '../options';
import { checkKeys, parseOptions } from '../parse-options';
import { shown } from '../shown';

/** What express-session keeps for a session: its data and its `cookie`; `passport` when Passport signed a user in. */
export interface ExpressSessionData {
  cookie?: { expires?: string | Date | null; originalMaxAge?: number | null; [key: string]: unknown };
  passport?: { user?: unknown };
  [key: string]: unknown;
}

/** Options of {@link createSessionStore}. Each manager option here means what it means for `createSessionManager`. */
export interface SessionStoreOptions extends Pick<SessionManagerOptions,
  'redis' | 'keyPrefix' | 'maxSessions' | 'onLimit' | 'idleTimeout' | 'absoluteTimeout' | 'touchAfter' | 'userTagSecret'
  | 'waitForReplicas' | 'metrics' | 'storeTimeoutMs' | 'indexTtlFactor' | 'onError'> {
  /**
   * The user a session belongs to, or null/undefined for a session with no user. The first save that names a
   * user binds the session to that user under `maxSessions` / `onLimit`.
   * @default (session) => session.passport?.user (Passport's serialized user, as a string)
   */
  userOf?: (session: ExpressSessionData) => string | number | null | undefined;
}

const STORE_KEYS = [
  'redis', 'keyPrefix', 'maxSessions', 'onLimit', 'idleTimeout', 'absoluteTimeout', 'touchAfter', 'userTagSecret', 'waitForReplicas',
  'metrics', 'storeTimeoutMs', 'indexTtlFactor', 'onError', 'userOf',
];

/** The Store's frozen configuration. */
export interface StoreConfig extends Config {
  readonly userOf: (session: ExpressSessionData) => string | null;
}

/** Passport's serialized user: a string or number id; anything else cannot name a user. */
function passportUser(session: ExpressSessionData): unknown {
  return session.passport?.user;
}

/** Validates the options once; a mistake throws `INVALID_OPTIONS` saying what to fix. */
export function parseStoreOptions(options: SessionStoreOptions): StoreConfig {
  if (options === null || typeof options !== 'object') {
    throw new SessionError('INVALID_OPTIONS', 'createSessionStore() needs an options object with at least `redis`.');
  }
  checkKeys(options, STORE_KEYS, '', 'createSessionStore() ');
  const { userOf = passportUser, ...rest } = options;
  if (typeof userOf !== 'function') throw new SessionError('INVALID_OPTIONS', `\`userOf\` must be a function of the session returning its user id; received ${shown(userOf)}.`);
  const config = parseOptions(rest);
  const named = (session: ExpressSessionData): string | null => {
    const user = userOf(session);
    if (user === undefined || user === null) return null;
    if (typeof user === 'string' || typeof user === 'number') return String(user);
    throw new SessionError('INVALID_ARGUMENT', `userOf(session) must give the user's id as a string or number; received ${shown(user)}. With Passport, serialize the user to its id.`);
  };
  return Object.freeze({ ...config, userOf: named });
}
