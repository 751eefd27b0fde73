/** Decoding what the scripts return into session records, checking every shape on the way; session ids. */
import { createHash } from 'node:crypto';

/** A session as Redis holds it; times are ms since the epoch, from Redis's clock. */
export interface StoredSession {
  userId: string;
  sessionId: string;
  createdAt: number;
  /** When Redis last recorded activity and refreshed the idle timeout (with `touchAfter`, up to that long ago). */
  lastActiveAt: number;
  /** The current request's time, in Redis's clock. */
  observedAt: number;
  /** When the user last proved who they are: sign-in or re-authentication. */
  authenticatedAt: number;
  /** 0 when there is no absolute lifetime. */
  absoluteDeadline: number;
  /** App data: field name to its JSON text. */
  data: Map<string, string>;
}

/** One live session of a user, as listed (no token, no token hash, no data). */
export interface ListedSession {
  userId: string;
  sessionId: string;
  createdAt: number;
  lastActiveAt: number;
  authenticatedAt: number;
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
}

/** The prefix of the record fields that hold the app's data (`d:<name>`). */
export const DATA_PREFIX = 'd:';
/** A session id as the scripts handle it: the UUID's 32 hex digits. */
const COMPACT_ID = /^[0-9a-f]{32}$/;

/** Decodes the resolve script's JSON reply `[now, field, value, ...]`; null for any other shape. */
export function decodeSession(reply: unknown, absoluteMs: number, tokenHash: string): StoredSession | null {
  let items: unknown = null;
  try {
    if (typeof reply === 'string') items = JSON.parse(reply);
  } catch {
    return null;
  }
  if (!Array.isArray(items) || items.length % 2 !== 1) return null;
  const now = Number(items[0]);
  return sessionFromFields(items, 1, now, true, absoluteMs, tokenHash);
}

/**
 * A session from a record's flat field/value list starting at `from`. `now` is the request's time in
 * Redis's clock; `touched` says this request refreshed the record (else its `a` field says when the last
 * refresh was); `tokenHash` is the record's, whose session id it is unless an `i` field says otherwise.
 * Null for any malformed field.
 */
export function sessionFromFields(items: unknown[], from: number, now: number, touched: boolean, absoluteMs: number, tokenHash: string): StoredSession | null {
  const session: StoredSession = {
    userId: '',
    sessionId: '',
    createdAt: 0,
    lastActiveAt: touched ? now : 0,
    observedAt: now,
    authenticatedAt: 0,
    absoluteDeadline: 0,
    data: new Map(),
  };
  let authenticated = '';
  let id: string | null = null;
  let active: string | null = null;
  for (let i = from; i < items.length; i += 2) {
    const name = items[i];
    const value = items[i + 1];
    if (typeof name !== 'string' || typeof value !== 'string') return null;
    if (name === 'u') session.userId = value;
    else if (name === 'i') id = value;
    else if (name === 'c') session.createdAt = Number(value);
    else if (name === 'a') active = value;
    else if (name === 't') authenticated = value;
    else if (name.startsWith(DATA_PREFIX)) session.data.set(name.slice(DATA_PREFIX.length), value);
  }
  // `a` is stored as ms after `c` (a small number takes 1 to 5 bytes in a listpack, a time 9).
  if (!touched) session.lastActiveAt = active === null ? 0 : session.createdAt + Number(active);
  if (id === null) session.sessionId = sessionIdOf(tokenHash);
  else session.sessionId = COMPACT_ID.test(id) ? uuidOf(id) : '';
  session.authenticatedAt = authenticated ? Number(authenticated) : session.createdAt;
  if (absoluteMs > 0) session.absoluteDeadline = session.createdAt + absoluteMs;
  return session;
}

/** Decodes list's JSON reply `[now, [u, i, c, a, t, g, p, pttl], ...]`, oldest first; null for any other shape. */
export function decodeListing(reply: unknown): ListedSession[] | null {
  let items: unknown = null;
  try {
    if (typeof reply === 'string') items = JSON.parse(reply);
  } catch {
    return null;
  }
  if (!Array.isArray(items) || typeof items[0] !== 'number') return null;
  const now = items[0];
  const listed: ListedSession[] = [];
  for (const row of items.slice(1)) {
    if (!Array.isArray(row) || row.length !== 8) return null;
    const [u, i, c, a, t, g, p, pttl] = row as unknown[];
    if (typeof u !== 'string' || typeof i !== 'string' || !COMPACT_ID.test(i)) continue;
    const createdAt = Number(c);
    listed.push({
      userId: u,
      sessionId: uuidOf(i),
      createdAt,
      lastActiveAt: createdAt + Number(a),
      authenticatedAt: typeof t === 'string' ? Number(t) : createdAt,
      expiresAt: now + Math.max(0, Number(pttl)),
      userAgent: typeof g === 'string' ? g : null,
      ip: typeof p === 'string' ? p : null,
    });
  }
  return listed.sort((x, y) => x.createdAt - y.createdAt || (x.sessionId < y.sessionId ? -1 : 1));
}

/**
 * The public session id of the session created with this token hash: a version-4 UUID made of 122 bits
 * of SHA-1 over the hash. One-way (it reveals neither the hash nor the token), so it need not be stored:
 * the record holds an `i` field only once `reauthenticate()` moved it to another token hash. The scripts
 * derive the same value (`sid` in scripts/prelude.ts, with `redis.sha1hex`).
 */
export function sessionIdOf(tokenHash: string): string {
  const hex = createHash('sha1').update(tokenHash).digest('hex');
  const variant = (8 + (parseInt(hex.charAt(16), 16) % 4)).toString(16);
  return uuidOf(`${hex.slice(0, 12)}4${hex.slice(13, 16)}${variant}${hex.slice(17, 32)}`);
}

/** A session id as the scripts handle it: its 32 hex digits. */
export function compactId(uuid: string): string {
  return uuid.replace(/-/g, '');
}

/** The UUID text of a session id as the scripts handle it. */
export function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
