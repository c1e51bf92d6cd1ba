-- Every script that writes a `due:<b>` ends with fix(): the index then holds each bucket's earliest score.
local function fix(due, index, b)
  local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
  if first[1] then redis.call('ZADD', index, first[2], b) else redis.call('ZREM', index, b) end
end
