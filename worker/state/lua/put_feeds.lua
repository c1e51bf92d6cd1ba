-- KEYS the shard's index, the shard's disabled set, its failing zset, then (feed hash, due zset) per
-- bucket named in ARGV.  ARGV number of buckets n, the n buckets, then per feed (bucket position, id,
-- spec value, poll value or '', score or '', '1' when disabled else '', consecutive errors).
-- Every key is of one shard; `disabled` and `failing` (scored by errors) index the feeds in trouble.
--#include due_fix.lua
local n = tonumber(ARGV[1])
local touched = {}
for i = n + 2, #ARGV, 7 do
  local j, id, score = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 4]
  if ARGV[i + 5] == '1' then
    redis.call('SADD', KEYS[2], id)
  else
    redis.call('SREM', KEYS[2], id)
  end
  local errors = tonumber(ARGV[i + 6]) or 0
  if ARGV[i + 5] ~= '1' and errors > 0 then
    redis.call('ZADD', KEYS[3], errors, id)
  else
    redis.call('ZREM', KEYS[3], id)
  end
  local bucket, m = KEYS[2 + 2 * j], string.sub(id, 5)
  redis.call('HSET', bucket, id, ARGV[i + 2])
  if ARGV[i + 3] == '' then
    redis.call('HDEL', bucket, '+' .. m)
  else
    redis.call('HSET', bucket, '+' .. m, ARGV[i + 3])
  end
  if score ~= '' then
    redis.call('ZADD', KEYS[3 + 2 * j], score, m)
    touched[j] = true
  end
end
for j in pairs(touched) do fix(KEYS[3 + 2 * j], KEYS[1], ARGV[1 + j]) end
return 1
