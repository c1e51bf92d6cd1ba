-- KEYS bucket hash, due zset, index, entries, disabled set, failing zset; ARGV id.  Returns 1 when the feed was stored.
--#include due_fix.lua
local b, m = string.sub(ARGV[1], 1, 4), string.sub(ARGV[1], 5)
local existed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], '+' .. m)
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[2], m)
fix(KEYS[2], KEYS[3], b)
redis.call('DEL', KEYS[4])
return existed
