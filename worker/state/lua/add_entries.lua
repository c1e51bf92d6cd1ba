-- KEYS[1] a feed's entry memory; ARGV keep (digests), ttl (seconds), then one digest per entry key.
-- Returns the positions (1 = the first digest) of the digests not remembered before.  The memory
-- keeps the last `keep` digests and expires `ttl` after the last call.
--#include entries_lib.lua
local keep, ttl = tonumber(ARGV[1]), ARGV[2]
local recent = {}
for i = 3, #ARGV do recent[ARGV[i]] = true end
local s, converted = load_entries(KEYS[1], recent)
local has = member_test(s, #ARGV - 2)
local fresh, added, new = {}, {}, {}
for i = 3, #ARGV do
  local d = ARGV[i]
  if not added[d] and not has(d) then
    added[d] = true
    new[#new + 1] = d
    fresh[#fresh + 1] = i - 2
  end
end
if #new > 0 or converted then
  s = s .. table.concat(new)
  if #s > keep * W then s = string.sub(s, #s - keep * W + 1) end
  redis.call('SET', KEYS[1], s, 'EX', ttl)
elseif #s > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return fresh
