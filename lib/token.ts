/**
 * Secret tokens and the cookie value. The cookie holds `<userTag>.<token>`:
 * - `token`: 256 bits from the OS CSPRNG, base64url. Redis only ever sees 126 bits of its SHA-256
 *   (21 base64url characters): plenty to identify it, and no way back to the token. 21, not 22: the
 *   user index then holds one session in a 32-byte listpack instead of 48 (bench/RESULTS.md, memory).
 * - `userTag`: 96 bits of SHA-256 over the user id, or of HMAC-SHA256 under `userTagSecret`. It names
 *   the Redis hash slot that holds the user's keys (so every script works on Redis Cluster); it is not
 *   the user id. Unkeyed, a guessed id can be confirmed against it; keyed, not without the secret.
 */
import * as crypto from 'node:crypto';

const TOKEN_BYTES = 32;
const HASH_LENGTH = 21; // base64url characters of SHA-256 kept: 126 bits
const TAG_LENGTH = 16; // base64url characters: 96 bits
const TOKEN_LENGTH = 43; // base64url characters of 32 bytes
/** Exact length of a well-formed cookie value (before cookie-parser's signature). */
export const COOKIE_VALUE_LENGTH = TAG_LENGTH + 1 + TOKEN_LENGTH;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/;

/** What a cookie points at: the user's slot tag and the hash of the secret token. */
export interface SessionRef {
  readonly userTag: string;
  readonly tokenHash: string;
}

/** SHA-256 as base64url; the one-shot `crypto.hash` (Node 20.12+) where available, it is cheaper. */
const sha256 =
  typeof crypto.hash === 'function'
    ? (text: string): string => crypto.hash('sha256', text, 'base64url')
    : (text: string): string => crypto.createHash('sha256').update(text).digest('base64url');

/** The opaque, stable tag of a user id without a secret: the hash-slot name of that user's keys. */
export function userTagOf(userId: string): string {
  return sha256(userId).slice(0, TAG_LENGTH);
}

/** Turns a user id into its tag; one per manager, keyed or not. */
export type UserTagger = (userId: string) => string;

const TAG_CACHE_SIZE = 1000;

/**
 * The tag function of a manager, built once at creation: HMAC-SHA256 of the user id under `secret`
 * (same length, still stable per user), or plain SHA-256 without one. The last few hundred tags are
 * remembered, so checking a resolved session's tag costs a map lookup, not a hash.
 */
export function createUserTagger(secret?: string): UserTagger {
  let derive: UserTagger = userTagOf;
  if (secret !== undefined) {
    const key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
    derive = (userId) => crypto.createHmac('sha256', key).update(userId).digest('base64url').slice(0, TAG_LENGTH);
  }
  const recent = new Map<string, string>();
  return (userId) => {
    let tag = recent.get(userId);
    if (tag === undefined) {
      if (recent.size >= TAG_CACHE_SIZE) recent.clear();
      tag = derive(userId);
      recent.set(userId, tag);
    }
    return tag;
  };
}

/** The hash of a token: the only form of it that reaches Redis. */
export function hashToken(token: string): string {
  return sha256(token).slice(0, HASH_LENGTH);
}

/** A fresh session: the cookie value to hand to the browser and the reference Redis knows. */
export function issueToken(userId: string, tagOf: UserTagger = userTagOf): { cookieValue: string; ref: SessionRef } {
  const token = crypto.randomBytes(TOKEN_BYTES).toString('base64url');
  const userTag = tagOf(userId);
  return { cookieValue: `${userTag}.${token}`, ref: { userTag, tokenHash: hashToken(token) } };
}

/** Reads a cookie value; `null` if it is not exactly the shape this package issues. */
export function parseCookieValue(value: unknown): SessionRef | null {
  if (typeof value !== 'string' || value.length !== COOKIE_VALUE_LENGTH || !COOKIE_VALUE.test(value)) {
    return null;
  }
  return { userTag: value.slice(0, TAG_LENGTH), tokenHash: hashToken(value.slice(TAG_LENGTH + 1)) };
}
