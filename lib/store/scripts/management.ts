/** The scripts that manage a user's sessions from anywhere: revoke one or all, list the live ones. */
import { script } from './prelude';

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
    local key = record(hash)
    if redis.call('EXISTS', key) == 0 then
      redis.call('HDEL', KEYS[1], hash)
    else
      local id = sid(key, hash)
      if (ARGV[2] == 'one' and id == ARGV[3]) or (ARGV[2] == 'all' and id ~= ARGV[3]) then
        finish(hash, 'R')
        reply[#reply + 1] = id
      end
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
    local key = record(entries[i])
    local f = redis.call('HMGET', key, 'u', 'i', 'c', 'a', 't', 'p', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8',
      'g9', 'g10', 'g11', 'g12', 'g13', 'g14', 'g15', 'g16')
    local agent = {}
    for j = 7, 22 do
      if not f[j] then break end
      agent[#agent + 1] = f[j]
    end
    f = { f[1], f[2] or sid(key, entries[i]), f[3], f[4], f[5], #agent > 0 and table.concat(agent) or false, f[6] }
    if f[3] then
      f[8] = redis.call('PTTL', key)
      out[#out + 1] = f
    end
  end
end
return cjson.encode(out)
`);
