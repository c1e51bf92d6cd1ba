-- KEYS[1] chrome hash; ARGV[1] min count, ARGV[2] most fingerprints kept, ARGV[3] ttl, ARGV[4..] fingerprints.
-- Past the most kept, the fingerprints not learned are forgotten (boilerplate is learned again
-- within `min count` articles); when the learned ones alone fill half the room, all are.
local learned = {}
local min, most = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 4, #ARGV do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], 1) >= min then learned[#learned + 1] = ARGV[i] end
end
if redis.call('HLEN', KEYS[1]) > most then
  local all = redis.call('HGETALL', KEYS[1])
  local drop, kept = {}, 0
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) < min then drop[#drop + 1] = all[i] else kept = kept + 1 end
  end
  if kept * 2 > most then
    redis.call('DEL', KEYS[1])
  else
    for i = 1, #drop, 1000 do redis.call('HDEL', KEYS[1], unpack(drop, i, math.min(i + 999, #drop))) end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return learned
