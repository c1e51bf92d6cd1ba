-- KEYS[1] parked zset, KEYS[2] parked payloads; ARGV id, at, id, at, ...
-- Deletes an id only while it still holds that `at`: one parked again since its claim stays.
for i = 1, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[2], ARGV[i])
  if raw and cjson.decode(raw)['at'] == tonumber(ARGV[i + 1]) then
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 1
