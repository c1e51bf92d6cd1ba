-- KEYS the shard's index, then (due zset, feed hash) per bucket named in ARGV.  ARGV now, lease
-- end, number of buckets n, the n buckets, then (bucket position, member) per feed to claim.
-- Leases each feed still due (a racing claim may have taken it since it was read) and returns
-- its (spec value, poll value) pair, flattened, '' for one not claimed; then fixes the index
-- entry of every bucket named (a stale entry heals here).  Every key is of one shard.
--#include due_fix.lua
local now, until_, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out = {}
for i = n + 4, #ARGV, 2 do
  local j, m = tonumber(ARGV[i]), ARGV[i + 1]
  local due = KEYS[2 * j]
  local score = redis.call('ZSCORE', due, m)
  if score and tonumber(score) <= now then
    redis.call('ZADD', due, 'XX', until_, m)
    local b = ARGV[3 + j]
    local v = redis.call('HMGET', KEYS[2 * j + 1], b .. m, '+' .. m)
    out[#out + 1] = v[1] or ''
    out[#out + 1] = v[2] or ''
  else
    out[#out + 1] = ''
    out[#out + 1] = ''
  end
end
for j = 1, n do fix(KEYS[2 * j], KEYS[1], ARGV[3 + j]) end
return out
