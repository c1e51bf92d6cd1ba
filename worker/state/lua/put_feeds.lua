-- ARGV prefix, then (id, spec value, poll value or '', score or '', '1' when disabled else '',
-- consecutive errors) per feed.  `disabled` and `failing` (scored by errors) index the feeds in trouble.
--#include due_fix.lua
local p = ARGV[1]
local touched = {}
for i = 2, #ARGV, 6 do
  local id, score = ARGV[i], ARGV[i + 3]
  if ARGV[i + 4] == '1' then
    redis.call('SADD', p .. 'disabled', id)
  else
    redis.call('SREM', p .. 'disabled', id)
  end
  local errors = tonumber(ARGV[i + 5]) or 0
  if ARGV[i + 4] ~= '1' and errors > 0 then
    redis.call('ZADD', p .. 'failing', errors, id)
  else
    redis.call('ZREM', p .. 'failing', id)
  end
  local b, m = string.sub(id, 1, 4), string.sub(id, 5)
  local bucket = p .. 'feed:' .. b
  redis.call('HSET', bucket, id, ARGV[i + 1])
  if ARGV[i + 2] == '' then
    redis.call('HDEL', bucket, '+' .. m)
  else
    redis.call('HSET', bucket, '+' .. m, ARGV[i + 2])
  end
  if score ~= '' then
    redis.call('ZADD', p .. 'due:' .. b, score, m)
    touched[b] = true
  end
end
for b in pairs(touched) do fix(p .. 'due:' .. b, p .. 'due-index', b) end
return 1
