-- KEYS the oldest layout's single due zset (ids), the shard's index, then the shard's due zsets of
-- the buckets named in ARGV.  ARGV number of buckets n, the n buckets, then (bucket position,
-- member, id, score) per feed.  A feed already in the new layout keeps its score there (NX).
--#include due_fix.lua
local n = tonumber(ARGV[1])
local touched = {}
for i = n + 2, #ARGV, 4 do
  local j = tonumber(ARGV[i])
  local score = tonumber(ARGV[i + 3])
  if score then score = math.ceil(score) else score = ARGV[i + 3] end
  redis.call('ZADD', KEYS[2 + j], 'NX', score, ARGV[i + 1])
  redis.call('ZREM', KEYS[1], ARGV[i + 2])
  touched[j] = true
end
for j in pairs(touched) do fix(KEYS[2 + j], KEYS[2], ARGV[1 + j]) end
return 1
