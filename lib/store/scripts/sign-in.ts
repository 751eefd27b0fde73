/** The scripts that create or end a browser's session: sign-in under the limit, sign-out, re-authentication. */
import { script } from './prelude';

/**
 * KEYS: index, new session, format-1 session, format-1 index.
 * ARGV: 1 token hash, 2 session id, 3 user id, 4 idle ms, 5 absolute ms, 6 index ttl ms, 7 max sessions,
 * 8 'd' (displace the oldest) | 'r' (reject the new), 9 deadline, 10 token hash of the session this browser
 * held, ended by this sign-in and not counted against the limit ('' none), 11 user agent, 12 IP, 13.. data field/value pairs.
 * Returns {1, now, deadline, displaced session ids...} | {5} too late | {6} limit reached.
 */
export const LOGIN = script(`
if late(ARGV[9]) then return {5} end
local idle = tonumber(ARGV[4])
local previous = false
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #entries, 2 do
  local hash, mark = entries[i], entries[i + 1]
  if hash == ARGV[10] then
    previous = mark == ''
  elseif mark == '' then
    local created = redis.call('HGET', KEYS[1] .. ':' .. hash, 'c')
    if created then live[#live + 1] = { hash, tonumber(created) } else redis.call('HDEL', KEYS[1], hash) end
  elseif now - (tonumber(string.sub(mark, 2)) or 0) > idle then
    redis.call('HDEL', KEYS[1], hash)
  end
end
local reply = { 1, now, 0 }
local max = tonumber(ARGV[7])
if #live >= max then
  if ARGV[8] == 'r' then return {6} end
  table.sort(live, function(x, y) if x[2] ~= y[2] then return x[2] < y[2] end return x[1] < y[1] end)
  for i = 1, #live - max + 1 do
    local sid = finish(live[i][1], 'D')
    if sid then reply[#reply + 1] = sid end
  end
end
if previous then finish(ARGV[10], 'L') end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[2])
local ttl = idle
local indexTtl = tonumber(ARGV[6])
local absolute = tonumber(ARGV[5])
if absolute > 0 then
  reply[3] = now + absolute
  if absolute < ttl then ttl = absolute end
  if absolute < indexTtl then indexTtl = absolute end
end
redis.call('HSET', KEYS[2], 'u', ARGV[3], 'i', ARGV[2], 'c', now, 'a', now)
-- The user agent in pieces of at most 64 bytes (g1, g2, ...): a longer value would turn the whole record
-- from Redis's compact listpack into a hash table, more than doubling its memory.
for i = 1, math.min(#ARGV[11], 1024), 64 do
  redis.call('HSET', KEYS[2], 'g' .. ((i - 1) / 64 + 1), string.sub(ARGV[11], i, i + 63))
end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[2], 'p', ARGV[12]) end
hsetFrom(KEYS[2], 13, #ARGV)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('HSET', KEYS[1], ARGV[1], '')
keepIndex(indexTtl)
return reply
`);

/**
 * KEYS: index. ARGV: token hash, deadline, why it ends (`L` signed out, `D` displaced, `E` expired).
 * Ends the session if it is live. Returns 1 | 0 | 5.
 */
export const LOGOUT = script(`
if late(ARGV[2]) then return 5 end
if redis.call('HGET', KEYS[1], ARGV[1]) ~= '' then return 0 end
finish(ARGV[1], ARGV[3])
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
local old = KEYS[1] .. ':' .. ARGV[1]
if redis.call('EXISTS', old) == 0 then return {2} end
local key = KEYS[1] .. ':' .. ARGV[2]
redis.call('RENAME', old, key)
redis.call('HSET', key, 't', now)
redis.call('HSET', KEYS[1], ARGV[1], 'T' .. now, ARGV[2], '')
return { 1, now }
`);
