/**
 * The Lua scripts behind every session operation. Each runs atomically in one round trip
 * and touches exactly two keys, both passed in KEYS and sharing one hash tag:
 *   KEYS[1] the user's session hash, KEYS[2] the user index (SHA-256 of the current token).
 * Session hash fields: u user id, i public session id (16 bytes, base64url), c created, a last active,
 * times in ms from Redis TIME; `d:<name>` app data (JSON). The absolute deadline is not stored: it is
 * `c` plus the absolute timeout the scripts are given, so a shorter policy applies at once.
 * Only lib/store.ts loads these.
 */
import { createHash } from 'node:crypto';

/** A Lua script with its SHA-1, computed once, for EVALSHA. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Reply codes shared by the scripts (a table reply means success for RESOLVE). */
export const REPLY = { OK: 1, EXPIRED: 2, DISPLACED: 3 } as const;

const NOW = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

/**
 * ARGV: token hash, idle ms, index ttl ms, absolute ms (0 = none). Returns 2 | 3, or the JSON array [now, field, value, ...]
 * (one bulk string: far cheaper for the client to decode than a nested array reply).
 * Records the activity and refreshes both TTLs; neither outlives the absolute deadline.
 */
export const RESOLVE = script(`
local current = redis.call('GET', KEYS[2])
if current ~= ARGV[1] then
  if current then return 3 end
  redis.call('DEL', KEYS[1])
  return 2
end
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return 2 end
${NOW}
local ttl = tonumber(ARGV[2])
local indexTtl = tonumber(ARGV[3])
local absolute = tonumber(ARGV[4])
if absolute > 0 then
  local created = 0
  for i = 1, #fields, 2 do
    if fields[i] == 'c' then created = tonumber(fields[i + 1]) break end
  end
  local left = created + absolute - now
  if left <= 0 then
    redis.call('DEL', KEYS[1], KEYS[2])
    return 2
  end
  if left < ttl then ttl = left end
  if left < indexTtl then indexTtl = left end
end
redis.call('HSET', KEYS[1], 'a', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], indexTtl)
table.insert(fields, 1, string.format('%d', now))
return cjson.encode(fields)
`);

/**
 * ARGV: token hash, session id, user id, idle ms, absolute ms (0 = none), index ttl ms,
 * then data field/value pairs. Replaces whatever session the user had. Returns {now, deadline}.
 */
export const LOGIN = script(`
${NOW}
local ttl = tonumber(ARGV[4])
local absolute = tonumber(ARGV[5])
local indexTtl = tonumber(ARGV[6])
local deadline = 0
if absolute > 0 then
  deadline = now + absolute
  if absolute < ttl then ttl = absolute end
  if absolute < indexTtl then indexTtl = absolute end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'u', ARGV[3], 'i', ARGV[2], 'c', now, 'a', now, unpack(ARGV, 7))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[1], 'PX', indexTtl)
return {now, deadline}
`);

/**
 * ARGV: token hash, n, n data field/value pairs to set, then data fields to delete.
 * Writes only if the token is still the user's current one. Returns 1 | 2 | 3.
 */
export const SAVE = script(`
local current = redis.call('GET', KEYS[2])
if current ~= ARGV[1] then
  if current then return 3 end
  return 2
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 2 end
local n = tonumber(ARGV[2])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + 2 * n)) end
if #ARGV > 2 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 3 + 2 * n)) end
return 1
`);

/** ARGV: token hash. Deletes the session and index only if the token is the current one. Returns 1 | 0. */
export const LOGOUT = script(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
`);
