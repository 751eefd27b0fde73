/**
 * The scripts of the express-session Store (lib/express-session/). A session bound to a user is a
 * package session (the two-key model of prelude.ts) whose token hash is the hash of express-session's id;
 * `BIND` creates it. Every express-session id also has a pointer key of its own (keys in
 * ../express-session.ts) holding, by its first character: `{` the JSON of a session with no user, `@` the
 * user tag of a bound session, `!` a destroyed session that no request still on its way may bring back.
 */
import { createHash } from 'node:crypto';
import { script, type Script } from './prelude';
import { LOGIN } from './sign-in';

/** BIND's reply when the token hash is already a live session (a concurrent request bound it first). */
export const BOUND = 90;

/**
 * KEYS and ARGV as LOGIN's. LOGIN, unless the index already knows the token hash: a live session
 * replies {90}; an ended one replies its end (2, 3, 4 or 8) and is never created again.
 */
export const BIND = script(`
local known = redis.call('HGET', KEYS[1], ARGV[1])
if known == '' then return {${BOUND}} end
if known then return { why(known) } end
${LOGIN.source}`);

/** A script on a pointer key alone (none of the user-key helpers of the prelude). */
function pointerScript(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: pointer. ARGV: the session (its data's JSON, a newline, its cookie's JSON), ttl ms. Writes a session with no user unless the pointer names a
 * bound (`@`) or destroyed (`!`) session. Returns 1, or the pointer's value.
 */
export const SET_PLAIN = pointerScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) ~= '{' then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * KEYS: pointer. ARGV: the cookie's JSON, ttl ms. Refreshes a session with no user, whose value is its data's
 * JSON, a newline, its cookie's JSON: only the cookie is replaced, so data another request saved meanwhile
 * is kept. Never creates a session. Returns 1, 0 (none) or the pointer's value.
 */
export const TOUCH_PLAIN = pointerScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if string.sub(v, 1, 1) ~= '{' then return v end
local cut = string.find(v, '\\n', 1, true)
if not cut then return 0 end
redis.call('SET', KEYS[1], string.sub(v, 1, cut) .. ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * KEYS: pointer. ARGV: ttl ms for a pointer that did not exist. Marks a session with no user destroyed
 * (`!`, for the rest of its life). Returns 1, 0 (already destroyed) or the `@` value of a bound session.
 */
export const DESTROY_PLAIN = pointerScript(`
local v = redis.call('GET', KEYS[1])
if v == '!' then return 0 end
if v and string.sub(v, 1, 1) == '@' then return v end
if v then redis.call('SET', KEYS[1], '!', 'KEEPTTL') else redis.call('SET', KEYS[1], '!', 'PX', ARGV[1]) end
return 1
`);

/**
 * KEYS: pointer. ARGV: `@` user tag, ttl ms. Points the id at its bound session, unless it was destroyed
 * or bound to another user meanwhile. Returns 1 | 0.
 */
export const POINT = pointerScript(`
local v = redis.call('GET', KEYS[1])
if v == '!' or (v and string.sub(v, 1, 1) == '@' and v ~= ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);
