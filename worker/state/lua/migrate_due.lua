-- KEYS[1] the old single due zset (ids); ARGV prefix, batch size.  Returns how many are left.
-- A feed already in the new layout keeps its score there (NX): it was written later.
--#include due_fix.lua
local p = ARGV[1]
local touched = {}
local old = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 1, #old, 2 do
  local id = old[i]
  local b, m = string.sub(id, 1, 4), string.sub(id, 5)
  local score = tonumber(old[i + 1])
  if score then score = math.ceil(score) else score = old[i + 1] end
  redis.call('ZADD', p .. 'due:' .. b, 'NX', score, m)
  redis.call('ZREM', KEYS[1], id)
  touched[b] = true
end
for b in pairs(touched) do fix(p .. 'due:' .. b, p .. 'due-index', b) end
return redis.call('ZCARD', KEYS[1])
