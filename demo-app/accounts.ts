/**
 * The demo's stand-in for a user database: any username signs in with the password `demo`.
 * Both sign-in paths (the HTML form and POST /api/login) check credentials here.
 */
import { timingSafeEqual } from 'node:crypto';

/** The password every demo account has; shown on the sign-in page. */
export const DEMO_PASSWORD = 'demo';

/** The longest username accepted. */
export const MAX_USERNAME = 64;

/** Why a sign-in attempt was refused. */
export type SignInRefusal =
  | { readonly code: 'INVALID_REQUEST'; readonly status: 400; readonly message: string }
  | { readonly code: 'INVALID_CREDENTIALS'; readonly status: 401; readonly message: string };

/** The outcome of checking a sign-in attempt: the user id to sign in, or why not. */
export type SignInCheck = { readonly userId: string } | { readonly refusal: SignInRefusal };

// Control characters and the Unicode line and paragraph separators (matching them is the point).
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Checks a username and password as received (unknown types: they come from the network).
 * The user id is the trimmed username, lower-cased, so "Alice" and "alice" are one account.
 */
export function checkSignIn(username: unknown, password: unknown): SignInCheck {
  if (typeof username !== 'string' || typeof password !== 'string') {
    return { refusal: { code: 'INVALID_REQUEST', status: 400, message: 'Send a username and a password, both as text.' } };
  }
  const userId = username.trim().toLowerCase();
  if (userId.length === 0 || userId.length > MAX_USERNAME || UNPRINTABLE.test(userId)) {
    return { refusal: { code: 'INVALID_REQUEST', status: 400, message: `The username must be 1 to ${MAX_USERNAME} printable characters.` } };
  }
  if (!samePassword(password, DEMO_PASSWORD)) {
    return { refusal: { code: 'INVALID_CREDENTIALS', status: 401, message: `Wrong username or password. Every demo account's password is "${DEMO_PASSWORD}".` } };
  }
  return { userId };
}

function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
