/**
 * The package's one error class. Every failure a caller may handle carries a
 * stable `code` (listed in the README) and the HTTP status it maps to.
 */

/** Why a request has no session, or why a call failed. Stable across versions. */
export type SessionErrorCode =
  /** The request carried no session cookie. */
  | 'SESSION_MISSING'
  /** The cookie is malformed, unsigned, tampered with or oversized. */
  | 'SESSION_INVALID'
  /** The session ended: idle or absolute timeout, or logout. */
  | 'SESSION_EXPIRED'
  /** A newer login of the same user replaced this session. */
  | 'SESSION_DISPLACED'
  /** The session was signed out from elsewhere: `revokeSession`, `revokeUser` ("sign out other devices"). */
  | 'SESSION_REVOKED'
  /**
   * The cookie's token was replaced by `reauthenticate()` (in another request of the same browser) while
   * this request was on its way. The session lives on under the new token; the cookie is not cleared
   * (the browser already holds the new one), so retrying the request works. Answered only within 30 s of
   * the rotation (`ROTATION_GRACE_MS`); later the replaced cookie gets `SESSION_EXPIRED` (sign in again),
   * still without clearing the cookie.
   */
  | 'SESSION_ROTATED'
  /** `login()` with `onLimit: 'reject-new'` while the user already has `maxSessions` live sessions. */
  | 'SESSION_LIMIT_REACHED'
  /** `requireRecentLogin()`: the user last proved who they are too long ago for this route. */
  | 'REAUTHENTICATION_REQUIRED'
  /** Redis did not answer in time or failed; the request is treated as not signed in. */
  | 'SESSION_STORE_UNAVAILABLE'
  /** `createSessionManager` was given options it cannot use. */
  | 'INVALID_OPTIONS'
  /** A helper was called with an argument it cannot use (user id, session data). */
  | 'INVALID_ARGUMENT'
  /** The app is wired wrongly: cookie-parser or the middleware is not mounted. */
  | 'MISCONFIGURED'
  /** A cookie had to be set or cleared after the response headers were sent. */
  | 'HEADERS_SENT';

const STATUS: Record<SessionErrorCode, number> = {
  SESSION_MISSING: 401,
  SESSION_INVALID: 401,
  SESSION_EXPIRED: 401,
  SESSION_DISPLACED: 401,
  SESSION_REVOKED: 401,
  SESSION_ROTATED: 401,
  SESSION_LIMIT_REACHED: 409,
  REAUTHENTICATION_REQUIRED: 401,
  SESSION_STORE_UNAVAILABLE: 503,
  INVALID_OPTIONS: 500,
  INVALID_ARGUMENT: 400,
  MISCONFIGURED: 500,
  HEADERS_SENT: 500,
};

/**
 * The user-facing message of every code: what `requireSession()` and `errorHandler()` answer in
 * `{ error: { code, message } }`. Safe to show to end users (the 500 codes say nothing about the
 * server); key your own texts or translations by `code` instead of parsing messages.
 */
export const USER_MESSAGES: Readonly<Record<SessionErrorCode, string>> = Object.freeze({
  SESSION_MISSING: 'You are not signed in.',
  SESSION_INVALID: 'Your session cookie is not valid. Please sign in again.',
  SESSION_EXPIRED: 'Your session has expired. Please sign in again.',
  SESSION_DISPLACED: 'You were signed out because your account signed in somewhere else.',
  SESSION_REVOKED: 'This session was signed out from another device.',
  SESSION_ROTATED: 'Your session was renewed by another request. Please try again.',
  SESSION_LIMIT_REACHED: 'You are already signed in elsewhere. Sign out there first.',
  REAUTHENTICATION_REQUIRED: 'Please confirm your password to continue.',
  SESSION_STORE_UNAVAILABLE: 'The session service is unavailable. Please try again shortly.',
  INVALID_OPTIONS: 'Something went wrong on our side. Please try again later.',
  INVALID_ARGUMENT: 'The request could not be processed.',
  MISCONFIGURED: 'Something went wrong on our side. Please try again later.',
  HEADERS_SENT: 'Something went wrong on our side. Please try again later.',
});

/**
 * An error raised by express-single-session.
 *
 * @example
 * try { await sessions.login(req, res, userId) }
 * catch (err) { if (err instanceof SessionError && err.code === 'SESSION_STORE_UNAVAILABLE') res.status(503).end() }
 */
export class SessionError extends Error {
  /** Stable machine-readable code; see {@link SessionErrorCode}. */
  readonly code: SessionErrorCode;
  /** The HTTP status this error maps to (401, 409, 503, 400 or 500). */
  readonly status: number;

  constructor(code: SessionErrorCode, message?: string, options?: { cause?: unknown }) {
    super(`express-single-session: ${message ?? USER_MESSAGES[code]}`, options);
    this.name = 'SessionError';
    this.code = code;
    this.status = STATUS[code];
  }
}

/** The HTTP status a session error code maps to. */
export function statusOf(code: SessionErrorCode): number {
  return STATUS[code];
}

/** Redis appends the first arguments of an unknown or refused command to its message: key names, the token hash. */
const ARGS_IN_MESSAGE = /,? with args beginning with:.*$/s;

/**
 * A copy of a low-level error that is safe to hand to the app as a `cause`: its name, message, stack
 * and `code`, but none of the attached command (ioredis puts `command: { name, args }` on errors, and
 * the arguments hold key names, the token hash, the user id and session data). A `SessionError` is
 * returned as it is (its own cause is already public); a nested `cause` is made public too.
 */
export function publicCause(error: unknown): unknown {
  if (error instanceof SessionError || !(error instanceof Error)) return error;
  const message = error.message.replace(ARGS_IN_MESSAGE, '');
  const cause = (error as { cause?: unknown }).cause;
  const copy = new Error(message, cause === undefined ? undefined : { cause: publicCause(cause) });
  copy.name = error.name;
  if (typeof error.stack === 'string') {
    copy.stack = message === error.message ? error.stack : error.stack.split(error.message).join(message);
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') (copy as Error & { code?: unknown }).code = code;
  return copy;
}
