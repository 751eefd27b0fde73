/**
 * Every Lua script of the package. Each runs atomically in one round trip on the user's slot:
 * KEYS[1] is the user index (see keys.ts); a session's record is KEYS[1] .. ':' .. its token hash.
 * Session record fields: u user id, i public session id (16 bytes, base64url), c created, a last active,
 * t last authenticated (absent: same as c), g1, g2, ... the user agent in pieces of at most 64 bytes, p IP, `d:<name>` app data (JSON); times are ms
 * from Redis TIME. Write scripts take the caller's deadline in Redis time and do nothing once it has
 * passed: a write the caller gave up on never takes effect later. Only store.ts loads these.
 */
import { createHash } from 'node:crypto';

/** A Lua script with its SHA-1, computed once, for EVALSHA. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  const text = `${PRELUDE}\n${source}`;
  return { source: text, sha: createHash('sha1').update(text).digest('hex') };
}

/** Reply codes shared by the scripts. */
export const REPLY = { OK: 1, EXPIRED: 2, DISPLACED: 3, REVOKED: 4, LATE: 5, LIMIT: 6, LOGGED_OUT: 7 } as const;

/** Helpers every script starts with: the clock, the deadline check, tombstones, notices, chunked writes. */
const PRELUDE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local function late(deadline) deadline = tonumber(deadline) return deadline > 0 and now > deadline end
local function why(mark)
  if not mark then return 2 end
  local kind = string.sub(mark, 1, 1)
  if kind == 'D' then return 3 elseif kind == 'R' then return 4 else return 2 end
end
local function notify(kind, sid)
  if sid then redis.call('SPUBLISH', KEYS[1] .. ':n', kind .. sid) end
end
local function finish(hash, kind)
  local key = KEYS[1] .. ':' .. hash
  local sid = redis.call('HGET', key, 'i')
  redis.call('DEL', key)
  redis.call('HSET', KEYS[1], hash, kind .. now)
  notify(kind, sid)
  return sid
end
local function hsetFrom(key, first, last)
  for i = first, last, 200 do
    redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, last)))
  end
end
local function hdelFrom(key, first, last)
  for i = first, last, 200 do
    redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 199, last)))
  end
end
local function keepIndex(ttl)
  local left = redis.call('PTTL', KEYS[1])
  if left < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end`;

/**
 * KEYS: index, session, format-1 index. ARGV: token hash, idle ms, index ttl ms, absolute ms (0 = none).
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
if redis.call('EXISTS', KEYS[3]) == 1 then
  finish(ARGV[1], 'D')
  return 3
end
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
    redis.call('DEL', KEYS[2])
    redis.call('HDEL', KEYS[1], ARGV[1])
    return 2
  end
  if left < ttl then ttl = left end
  if left < indexTtl then indexTtl = left end
end
redis.call('HSET', KEYS[2], 'a', now)
redis.call('PEXPIRE', KEYS[2], ttl)
keepIndex(indexTtl)
table.insert(fields, 1, string.format('%d', now))
return cjson.encode(fields)
`);

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
local ttl = tonumber(ARGV[2])
local indexTtl = tonumber(ARGV[3])
local absolute = tonumber(ARGV[4])
if absolute > 0 then
  local left = created + absolute - now
  if left <= 0 then return 2 end
  if left < ttl then ttl = left end
  if left < indexTtl then indexTtl = left end
end
redis.call('HSET', KEYS[2], 'a', now)
redis.call('PEXPIRE', KEYS[2], ttl)
keepIndex(indexTtl)
return now
`);

/**
 * KEYS: index. ARGV: deadline, 'one' | 'all', a session id (the one to end, or the one `all` keeps; '' none).
 * Returns {1, ended session ids...} | {5}.
 */
export const REVOKE = script(`
if late(ARGV[1]) then return {5} end
local entries = redis.call('HGETALL', KEYS[1])
local reply = { 1 }
for i = 1, #entries, 2 do
  if entries[i + 1] == '' then
    local hash = entries[i]
    local sid = redis.call('HGET', KEYS[1] .. ':' .. hash, 'i')
    if not sid then
      redis.call('HDEL', KEYS[1], hash)
    elseif (ARGV[2] == 'one' and sid == ARGV[3]) or (ARGV[2] == 'all' and sid ~= ARGV[3]) then
      finish(hash, 'R')
      reply[#reply + 1] = sid
    end
  end
end
return reply
`);

/**
 * KEYS: index. Reads the user's live sessions without changing anything.
 * Returns the JSON [now, [u, i, c, a, t, g, p, pttl], ...] (false for a missing field).
 */
export const LIST = script(`
local entries = redis.call('HGETALL', KEYS[1])
local out = { now }
for i = 1, #entries, 2 do
  if entries[i + 1] == '' then
    local key = KEYS[1] .. ':' .. entries[i]
    local f = redis.call('HMGET', key, 'u', 'i', 'c', 'a', 't', 'p', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8',
      'g9', 'g10', 'g11', 'g12', 'g13', 'g14', 'g15', 'g16')
    local agent = {}
    for j = 7, 22 do
      if not f[j] then break end
      agent[#agent + 1] = f[j]
    end
    f = { f[1], f[2], f[3], f[4], f[5], #agent > 0 and table.concat(agent) or false, f[6] }
    if f[2] then
      f[8] = redis.call('PTTL', key)
      out[#out + 1] = f
    end
  end
end
return cjson.encode(out)
`);

/**
 * KEYS: index. ARGV: old token hash, new token hash, deadline. Moves a live session to a new token
 * (the old one stops working) and records the re-authentication. Returns {1, now} | {code}.
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
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[2], '')
return { 1, now }
`);

/**
 * KEYS: index, format-1 index. ARGV: token hash, session id (compact). Read-only: is this session still
 * live, and until when? Follows the session to a new token hash (after a re-authentication) by its id.
 * Returns {1, now, ms left, token hash} | {2} expired | {3} displaced | {4} revoked | {7} signed out.
 */
export const STATUS = script(`
local mark = redis.call('HGET', KEYS[1], ARGV[1])
local hash = false
if mark == '' then
  hash = ARGV[1]
elseif mark then
  if string.sub(mark, 1, 1) == 'L' then return {7} end
  return { why(mark) }
else
  local entries = redis.call('HGETALL', KEYS[1])
  for i = 1, #entries, 2 do
    if entries[i + 1] == '' and redis.call('HGET', KEYS[1] .. ':' .. entries[i], 'i') == ARGV[2] then
      hash = entries[i]
      break
    end
  end
  if not hash then return {2} end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {3} end
local key = KEYS[1] .. ':' .. hash
if redis.call('HGET', key, 'i') ~= ARGV[2] then return {2} end
local left = redis.call('PTTL', key)
if left < 0 then return {2} end
return { 1, now, left, hash }
`);
