/** The scripts that create or end a browser's session: sign-in under the limit, sign-out, re-authentication. */
import { script } from './prelude';

/**
 * KEYS: index, new session.
 * ARGV: 1 token hash, 2 user id, 3 idle ms, 4 absolute ms, 5 index ttl ms, 6 max sessions,
 * 7 'd' (displace the oldest) | 'r' (reject the new), 8 deadline, 9 token hash of the session this browser
 * held, ended by this sign-in and not counted against the limit ('' none), 10 user agent, 11 IP, 12.. data field/value pairs.
 * The record holds no session id: it is derived from the token hash (sid).
 * Returns {1, now, deadline, displaced session ids...} | {5} too late | {6} limit reached.
 */
export const LOGIN = script(`
if late(ARGV[8]) then return {5} end
local idle = tonumber(ARGV[3])
local previous = false
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #entries, 2 do
  local hash, mark = entries[i], entries[i + 1]
  if hash == ARGV[9] then
    previous = mark == ''
  elseif mark == '' then
    local created = redis.call('HGET', record(hash), 'c')
    if created then live[#live + 1] = { hash, tonumber(created) } else redis.call('HDEL', KEYS[1], hash) end
  elseif now - (tonumber(string.sub(mark, 2)) or 0) > idle then
    redis.call('HDEL', KEYS[1], hash)
  end
end
local reply = { 1, now, 0 }
local max = tonumber(ARGV[6])
if #live >= max then
  if ARGV[7] == 'r' then return {6} end
  table.sort(live, function(x, y) if x[2] ~= y[2] then return x[2] < y[2] end return x[1] < y[1] end)
  for i = 1, #live - max + 1 do
    local id = finish(live[i][1], 'D')
    if id then reply[#reply + 1] = id end
  end
end
if previous then finish(ARGV[9], 'L') end
redis.call('DEL', KEYS[2])
local ttl = idle
local indexTtl = tonumber(ARGV[5])
local absolute = tonumber(ARGV[4])
if absolute > 0 then
  reply[3] = now + absolute
  if absolute < ttl then ttl = absolute end
  if absolute < indexTtl then indexTtl = absolute end
end
redis.call('HSET', KEYS[2], 'u', ARGV[2], 'c', now, 'a', 0)
-- The user agent in pieces of at most 64 bytes (g1, g2, ...): a longer value would turn the whole record
-- from Redis's compact listpack into a hash table, more than doubling its memory.
for i = 1, math.min(#ARGV[10], 1024), 64 do
  redis.call('HSET', KEYS[2], 'g' .. ((i - 1) / 64 + 1), string.sub(ARGV[10], i, i + 63))
end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[2], 'p', ARGV[11]) end
hsetFrom(KEYS[2], 12, #ARGV)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('HSET', KEYS[1], ARGV[1], '')
keepIndex(indexTtl)
return reply
`);

/**
 * KEYS: index. ARGV: token hash, deadline, why it ends (`L` signed out, `D` displaced, `E` expired), and
 * optionally the session's id (compact): a token that `reauthenticate()` replaced (mark `T`) then ends
 * the live session with that id, which holds the newer token. Returns 1 | 0 | 5 | 8 (rotated, and no live
 * session with that id: the caller cannot tell whether it lives on under a token it does not know).
 */
export const LOGOUT = script(`
if late(ARGV[2]) then return 5 end
local mark = redis.call('HGET', KEYS[1], ARGV[1])
local hash = ARGV[1]
if mark ~= '' then
  if not mark or string.sub(mark, 1, 1) ~= 'T' or not ARGV[4] then return 0 end
  hash = liveHashOf(ARGV[4])
  if not hash then return 8 end
end
finish(hash, ARGV[3])
return 1
`);

/**
 * KEYS: index. ARGV: old token hash, new token hash, deadline. Moves a live session to a new token
 * and records the re-authentication. The old token's mark becomes `T` (rotated): a request still on its
 * way with the old cookie is refused without clearing the cookie, which by then holds the new token.
 * Returns {1, now} | {code}.
 */
export const REAUTHENTICATE = script(`
if late(ARGV[3]) then return {5} end
local mark = redis.call('HGET', KEYS[1], ARGV[1])
if mark ~= '' then return { why(mark) } end
local old = record(ARGV[1])
if redis.call('EXISTS', old) == 0 then return {2} end
local key = record(ARGV[2])
-- The id derived from the first token hash stays the session's: the record keeps it from now on.
redis.call('HSET', old, 'i', sid(old, ARGV[1]))
redis.call('RENAME', old, key)
redis.call('HSET', key, 't', now)
redis.call('HSET', KEYS[1], ARGV[1], 'T' .. now, ARGV[2], '')
return { 1, now }
`);
