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
  /** The HTTP status this error maps to (401, 503, 400 or 500). */
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
