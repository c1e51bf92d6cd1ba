-- KEYS[1] the queue's suspects (id -> first seen); ARGV now, confirm seconds, ids that look lost.
-- Returns the ids first seen at least `confirm` ago, and clears them and every suspect not listed.
local now, confirm = tonumber(ARGV[1]), tonumber(ARGV[2])
local listed = {}
for i = 3, #ARGV do listed[ARGV[i]] = true end
local known = redis.call('HGETALL', KEYS[1])
for i = 1, #known, 2 do
  if not listed[known[i]] then redis.call('HDEL', KEYS[1], known[i]) end
end
local confirmed = {}
for i = 3, #ARGV do
  local first = redis.call('HGET', KEYS[1], ARGV[i])
  if not first then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  elseif now - tonumber(first) >= confirm then
    confirmed[#confirmed + 1] = ARGV[i]
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return confirmed
