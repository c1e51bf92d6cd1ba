-- KEYS[1] parked zset, KEYS[2] parked payloads; ARGV due by, limit, lease end.
-- Returns id, payload, id, payload, ...; an id without a payload (a torn write) is dropped.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for i, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], id)
  if raw then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = raw
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
