-- ARGV now, limit, lease end, prefix.  Returns (spec value, poll value) pairs, flattened.
-- The first `limit` buckets of the index hold the `limit` earliest due feeds (each bucket in it
-- has a due feed at most as early as the bucket's score), so sorting their due feeds is exact.
-- Lua's redis.call is the cost here, so each bucket is read once (its due members and the one
-- after them, enough to know its new earliest score), written once and its states read once;
-- the index is written in one call at the end.  That is three calls a claimed feed where one
-- global zset took two: `bench/scheduler_bench.py` times it against that baseline (~2.4x).
local now, limit, until_, p = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local index = p .. 'due-index'
local found, rest, several, scores = {}, {}, false, {}
for _, b in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', ARGV[1], 'LIMIT', 0, limit)) do
  -- Mostly one feed of a bucket is due: its first two members tell all (the second's score is
  -- the bucket's next earliest); read further only when both are due.
  local key = p .. 'due:' .. b
  local head = redis.call('ZRANGE', key, 0, 1, 'WITHSCORES')
  if head[4] and tonumber(head[4]) <= now then
    head = redis.call('ZRANGE', key, 0, limit, 'WITHSCORES')
    several = true
  end
  rest[b] = head
  for i = 1, #head, 2 do
    local score = tonumber(head[i + 1])
    if score > now then break end
    found[#found + 1] = {score, b, head[i]}
  end
  -- Never the case while every write keeps the index exact; if it were, the index heals here.
  if not head[1] then
    redis.call('ZREM', index, b)
  elseif tonumber(head[2]) > now then
    scores[#scores + 1] = head[2]
    scores[#scores + 1] = b
  end
end
-- With one due feed a bucket, the index's order (by each bucket's earliest score) is already theirs.
if several then
  table.sort(found, function(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[3] < y[3]
  end)
end
local order, taken = {}, {}
for i = 1, math.min(limit, #found) do
  local b = found[i][2]
  if not taken[b] then taken[b] = 0; order[#order + 1] = b end
  taken[b] = taken[b] + 1
end
local values = {}
for _, b in ipairs(order) do
  -- The claimed feeds of a bucket are its first `taken[b]` members (the sort agrees with ZRANGE).
  local head, n = rest[b], taken[b]
  local rescore, fields = {}, {}
  for j = 1, n do
    local m = head[2 * j - 1]
    rescore[2 * j - 1] = until_
    rescore[2 * j] = m
    fields[2 * j - 1] = b .. m
    fields[2 * j] = '+' .. m
  end
  redis.call('ZADD', p .. 'due:' .. b, 'XX', unpack(rescore))
  local v = redis.call('HMGET', p .. 'feed:' .. b, unpack(fields))
  for j = 1, n do values[b .. head[2 * j - 1]] = {v[2 * j - 1] or '', v[2 * j] or ''} end
  local first = until_
  if head[2 * n + 2] and tonumber(head[2 * n + 2]) < tonumber(until_) then first = head[2 * n + 2] end
  scores[#scores + 1] = first
  scores[#scores + 1] = b
end
for i = 1, #scores, 1000 do
  redis.call('ZADD', index, unpack(scores, i, math.min(i + 999, #scores)))
end
local out = {}
for i = 1, math.min(limit, #found) do
  local v = values[found[i][2] .. found[i][3]]
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
end
return out
