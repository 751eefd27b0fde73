/** The request path's scripts: resolve-and-refresh, the refresh due under touchAfter, saving data, a live stream's status check. */
import { script } from './prelude';

/**
 * KEYS: index, session. ARGV: token hash, idle ms, index ttl ms, absolute ms (0 = none).
 * Returns 2 | 3 | 4, or the JSON array [now, field, value, ...] (one bulk string: cheap to decode).
 * Records the activity and refreshes the TTLs; neither outlives the absolute deadline.
 */
export const RESOLVE = script(`
local mark = redis.call('HGET', KEYS[1], ARGV[1])
if mark ~= '' then
  if not mark then redis.call('DEL', KEYS[2]) end
  return why(mark)
end
local fields = redis.call('HGETALL', KEYS[2])
if #fields == 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 2
end
local created = nil
for i = 1, #fields, 2 do
  if fields[i] == 'c' then created = tonumber(fields[i + 1]) break end
end
if not created then
  -- Not a record this package wrote: no refresh; the caller sees the fields and refuses them.
  table.insert(fields, 1, string.format('%d', now))
  return cjson.encode(fields)
end
if not refresh(KEYS[2], created, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])) then
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 2
end
table.insert(fields, 1, string.format('%d', now))
return cjson.encode(fields)
`);

/**
 * KEYS: index, session. ARGV: token hash, idle ms, index ttl ms, absolute ms (0 = none), deadline.
 * Records activity and refreshes both TTLs of a live session (capped by the absolute deadline), for requests
 * that read the session with plain commands. Returns the time it recorded, or 2 | 3 | 4 | 5.
 */
export const TOUCH = script(`
if late(ARGV[5]) then return 5 end
local mark = redis.call('HGET', KEYS[1], ARGV[1])
if mark ~= '' then return why(mark) end
local created = tonumber(redis.call('HGET', KEYS[2], 'c'))
if not created then return 2 end
if not refresh(KEYS[2], created, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])) then return 2 end
return now
`);

/**
 * KEYS: index, session. ARGV: token hash, deadline, n, n data field/value pairs to set, then fields to delete.
 * Writes only while the session is live. Returns 1 | 2 | 3 | 4 | 5.
 */
export const SAVE = script(`
if late(ARGV[2]) then return 5 end
local mark = redis.call('HGET', KEYS[1], ARGV[1])
if mark ~= '' then return why(mark) end
if redis.call('EXISTS', KEYS[2]) == 0 then return 2 end
local last = 3 + 2 * tonumber(ARGV[3])
hsetFrom(KEYS[2], 4, last)
hdelFrom(KEYS[2], last + 1, #ARGV)
return 1
`);

/**
 * KEYS: index. ARGV: token hash, session id (compact). Read-only: is this session still
 * live, and until when? Follows the session to a new token hash (after a re-authentication, mark `T`) by its id.
 * Returns {1, now, ms left, token hash} | {2} expired | {3} displaced | {4} revoked | {7} signed out.
 */
export const STATUS = script(`
local mark = redis.call('HGET', KEYS[1], ARGV[1])
local hash = false
if mark == '' then
  hash = ARGV[1]
elseif mark and string.sub(mark, 1, 1) == 'L' then
  return {7}
elseif mark and string.sub(mark, 1, 1) ~= 'T' then
  return { why(mark) }
else
  hash = liveHashOf(ARGV[2])
  if not hash then return {2} end
end
local key = record(hash)
if redis.call('EXISTS', key) == 0 or sid(key, hash) ~= ARGV[2] then return {2} end
local left = redis.call('PTTL', key)
if left < 0 then return {2} end
return { 1, now, left, hash }
`);
