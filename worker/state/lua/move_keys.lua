-- KEYS (old, new) pairs of hashes or zsets.  Merges each old key into its new one (what the new
-- one holds wins: it was written later) and deletes the old key.  Single Redis only: the layouts
-- before the hash tags never existed on a cluster.  Returns how many old keys were moved.
local moved = 0
for i = 1, #KEYS, 2 do
  local old, new = KEYS[i], KEYS[i + 1]
  local kind = redis.call('TYPE', old)['ok']
  if kind ~= 'none' then
    if redis.call('EXISTS', new) == 0 then
      redis.call('RENAME', old, new)
    elseif kind == 'hash' then
      local all = redis.call('HGETALL', old)
      for j = 1, #all, 2 do redis.call('HSETNX', new, all[j], all[j + 1]) end
      redis.call('DEL', old)
    elseif kind == 'zset' then
      local all = redis.call('ZRANGE', old, 0, -1, 'WITHSCORES')
      for j = 1, #all, 2 do redis.call('ZADD', new, 'NX', all[j + 1], all[j]) end
      redis.call('DEL', old)
    end
    moved = moved + 1
  end
end
return moved
