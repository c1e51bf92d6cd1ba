-- KEYS the shard's index, the shard's disabled set, then (feed hash, due zset) per bucket named in
-- ARGV.  ARGV number of buckets n, the n buckets, then per feed (bucket position, id, spec value,
-- poll value or '', score or '', '1' when disabled else '').  Every key is of one shard.
--#include due_fix.lua
local n = tonumber(ARGV[1])
local touched = {}
for i = n + 2, #ARGV, 6 do
  local j, id, score = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 4]
  if ARGV[i + 5] == '1' then
    redis.call('SADD', KEYS[2], id)
  else
    redis.call('SREM', KEYS[2], id)
  end
  local bucket, m = KEYS[1 + 2 * j], string.sub(id, 5)
  redis.call('HSET', bucket, id, ARGV[i + 2])
  if ARGV[i + 3] == '' then
    redis.call('HDEL', bucket, '+' .. m)
  else
    redis.call('HSET', bucket, '+' .. m, ARGV[i + 3])
  end
  if score ~= '' then
    redis.call('ZADD', KEYS[2 + 2 * j], score, m)
    touched[j] = true
  end
end
for j in pairs(touched) do fix(KEYS[2 + 2 * j], KEYS[1], ARGV[1 + j]) end
return 1
