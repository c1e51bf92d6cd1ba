-- KEYS[1] entry set; ARGV entry keys.  Returns the keys that were not members.
local fresh = {}
for i, k in ipairs(ARGV) do
  if redis.call('SADD', KEYS[1], k) == 1 then fresh[#fresh + 1] = k end
end
return fresh
