-- KEYS due zsets of one shard; ARGV now, limit.  Returns, per key, its due members and their
-- scores (member, score, member, score, ...; at most `limit` members), earliest first.  Reads only.
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('ZRANGE', key, '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2], 'WITHSCORES')
end
return out
