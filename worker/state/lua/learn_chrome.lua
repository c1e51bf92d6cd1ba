-- KEYS[1] chrome hash; ARGV[1] min count, ARGV[2..] fingerprints.
local learned = {}
local min = tonumber(ARGV[1])
for i = 2, #ARGV do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], 1) >= min then learned[#learned + 1] = ARGV[i] end
end
return learned
