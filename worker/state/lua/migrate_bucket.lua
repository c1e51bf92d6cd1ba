-- KEYS old feed hash, old due zset, new feed hash, new due zset, old index, new index (shard's);
-- ARGV the bucket.  Moves one bucket of the previous layout into its shard; fields and due times
-- already in the new layout were written later and are kept (HSETNX, ZADD NX).  Returns 1 if moved.
--#include due_fix.lua
local moved = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do redis.call('HSETNX', KEYS[3], fields[i], fields[i + 1]) end
local due = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #due, 2 do redis.call('ZADD', KEYS[4], 'NX', due[i + 1], due[i]) end
if #fields > 0 or #due > 0 then moved = 1 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[5], ARGV[1])
fix(KEYS[4], KEYS[6], ARGV[1])
return moved
