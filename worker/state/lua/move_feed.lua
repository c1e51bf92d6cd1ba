-- KEYS old bucket, new bucket, old due, new due, index, old entries, new entries, disabled set,
-- failing zset; ARGV old id, new id, new spec value, new poll value or '', '1' when the new state
-- is disabled, the entry memory's ttl, the new state's consecutive errors.
--#include due_fix.lua
--#include entries_lib.lua
local ob, om = string.sub(ARGV[1], 1, 4), string.sub(ARGV[1], 5)
local nb, nm = string.sub(ARGV[2], 1, 4), string.sub(ARGV[2], 5)
local score = redis.call('ZSCORE', KEYS[3], om)
redis.call('HDEL', KEYS[1], ARGV[1], '+' .. om)
redis.call('ZREM', KEYS[3], om)
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[2], '+' .. nm)
else
  redis.call('HSET', KEYS[2], '+' .. nm, ARGV[4])
end
if score then redis.call('ZADD', KEYS[4], score, nm) end
redis.call('SREM', KEYS[8], ARGV[1])
if ARGV[5] == '1' then redis.call('SADD', KEYS[8], ARGV[2]) end
redis.call('ZREM', KEYS[9], ARGV[1])
if ARGV[5] ~= '1' and (tonumber(ARGV[7]) or 0) > 0 then redis.call('ZADD', KEYS[9], ARGV[7], ARGV[2]) end
fix(KEYS[3], KEYS[5], ob)
fix(KEYS[4], KEYS[5], nb)
-- The old feed's entries go first: the new one's own are the more recent.
local moved = load_entries(KEYS[6], {})
if #moved > 0 then
  redis.call('SET', KEYS[7], moved .. load_entries(KEYS[7], {}), 'EX', ARGV[6])
end
redis.call('DEL', KEYS[6])
return 1
