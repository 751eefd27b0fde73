/**
 * Every Lua script of the package. Each runs atomically in one round trip on the user's slot:
 * KEYS[1] is the user index `<prefix>{<tag>}:v2` (see keys.ts); a session's record is `<prefix>{<tag>}<token hash>` (record()).
 * Session record fields: u user id, i public session id (32 hex digits; only after a re-authentication moved
 * the record to another token hash: until then the id is derived from the token hash, see sid), c created, a last active (ms after c),
 * t last authenticated (absent: same as c), g1, g2, ... the user agent in pieces of at most 64 bytes, p IP, `d:<name>` app data (JSON); times are ms
 * from Redis TIME. Write scripts take the caller's deadline in Redis time and do nothing once it has
 * passed: a write the caller gave up on never takes effect later. This file holds what they all share.
 */
import { createHash } from 'node:crypto';

/** A Lua script with its SHA-1, computed once, for EVALSHA. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

export function script(source: string): Script {
  const text = `${PRELUDE}\n${source}`;
  return { source: text, sha: createHash('sha1').update(text).digest('hex') };
}

/** Reply codes shared by the scripts. */
export const REPLY = { OK: 1, EXPIRED: 2, DISPLACED: 3, REVOKED: 4, LATE: 5, LIMIT: 6, LOGGED_OUT: 7, ROTATED: 8 } as const;

/** Helpers every script starts with: the clock, the deadline check, tombstones, notices, chunked writes. */
const PRELUDE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
-- The key of the session record with token hash 'hash': the index's name without ':v2', then the hash (keys.ts).
local function record(hash) return string.sub(KEYS[1], 1, -4) .. hash end
local function late(deadline) deadline = tonumber(deadline) return deadline > 0 and now > deadline end
local function why(mark)
  if not mark then return 2 end
  local kind = string.sub(mark, 1, 1)
  if kind == 'D' then return 3 elseif kind == 'R' then return 4 elseif kind == 'T' then return 8 else return 2 end
end
-- The public id of the session whose record is 'key' and token hash 'hash': its 'i' field, or the
-- version-4 UUID (32 hex digits) derived from the hash (records.ts sessionIdOf).
local function sid(key, hash)
  local stored = redis.call('HGET', key, 'i')
  if stored then return stored end
  local h = redis.sha1hex(hash)
  return string.sub(h, 1, 12) .. '4' .. string.sub(h, 14, 16) .. string.format('%x', 8 + tonumber(string.sub(h, 17, 17), 16) % 4)
    .. string.sub(h, 18, 32)
end
-- The token hash of the user's live session with public id 'id' (a session re-authentication moved to
-- a new token keeps its id), or false.
local function liveHashOf(id)
  local entries = redis.call('HGETALL', KEYS[1])
  for i = 1, #entries, 2 do
    if entries[i + 1] == '' and sid(record(entries[i]), entries[i]) == id then return entries[i] end
  end
  return false
end
local function notify(kind, sid)
  if sid then redis.call('SPUBLISH', KEYS[1] .. ':n', kind .. sid) end
end
-- Ends a session: tombstone in the index, record deleted, notice published. Returns its id (false if
-- its record was already gone).
local function finish(hash, kind)
  local key = record(hash)
  local id = sid(key, hash)
  if redis.call('DEL', key) == 0 then id = false end
  redis.call('HSET', KEYS[1], hash, kind .. now)
  notify(kind, id)
  return id
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
end
-- Records activity on a session created at 'created' and refreshes its TTL and the index's, neither past the
-- absolute deadline (ARGV idle ms, index ttl ms and absolute ms given as numbers). False once that has passed.
local function refresh(key, created, ttl, indexTtl, absolute)
  if absolute > 0 then
    local left = created + absolute - now
    if left <= 0 then return false end
    if left < ttl then ttl = left end
    if left < indexTtl then indexTtl = left end
  end
  redis.call('HSET', key, 'a', now - created)
  redis.call('PEXPIRE', key, ttl)
  keepIndex(indexTtl)
  return true
end`;
