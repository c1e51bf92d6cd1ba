-- KEYS bucket hash, due zset, index; ARGV id, spec value to keep if none is stored, score or '' (unschedule).
--#include due_fix.lua
local b, m = string.sub(ARGV[1], 1, 4), string.sub(ARGV[1], 5)
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], m)
else
  redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], m)
end
fix(KEYS[2], KEYS[3], b)
return 1
