-- KEYS[1] a timeline hash (field: minute, value: count); ARGV[1] minute, ARGV[2] by,
-- ARGV[3] the oldest minute kept, ARGV[4] the key's lifetime in seconds.
-- Older minutes are dropped when a minute's field is created: about once a minute per timeline,
-- over at most ~120 fields.  The lifetime only matters once recording stops.
local by = tonumber(ARGV[2])
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], by)
if n == by then
  local oldest = tonumber(ARGV[3])
  for _, m in ipairs(redis.call('HKEYS', KEYS[1])) do
    if tonumber(m) < oldest then redis.call('HDEL', KEYS[1], m) end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return n
