-- KEYS the shard's index, then (due zset, feed hash) per bucket named in ARGV.  ARGV now, lease
-- end, number of buckets n, the n buckets, then (bucket position, member) per feed to claim.
-- Leases each feed still due (a racing claim may have taken it since it was read) and returns
-- its (spec value, poll value) pair, flattened, '' for one not claimed; then fixes the index
-- entry of every bucket named (a stale entry heals here).  Every key is of one shard.
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
-- The index in one ZADD (and a ZREM for buckets left empty): a call a bucket costs more in Lua.
local scores, empty = {}, {}
for j = 1, n do
  local first = redis.call('ZRANGE', KEYS[2 * j], 0, 0, 'WITHSCORES')
  if first[1] then
    scores[#scores + 1] = first[2]
    scores[#scores + 1] = ARGV[3 + j]
  else
    empty[#empty + 1] = ARGV[3 + j]
  end
end
for i = 1, #scores, 1000 do redis.call('ZADD', KEYS[1], unpack(scores, i, math.min(i + 999, #scores))) end
for i = 1, #empty, 1000 do redis.call('ZREM', KEYS[1], unpack(empty, i, math.min(i + 999, #empty))) end
return out
