-- KEYS[1] a feed's entry memory; ARGV one digest per entry key.  Returns the positions (1 = the
-- first digest) of the digests not remembered.  Writes nothing: a memory of the previous layout
-- (a set of whole keys) is read as digests, and converted by the next add_entries.
--#include entries_lib.lua
local kind = redis.call('TYPE', KEYS[1])['ok']
local s = ''
if kind == 'string' then
  s = redis.call('GET', KEYS[1])
elseif kind == 'set' then
  local parts = {}
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do parts[#parts + 1] = entry_digest(m) end
  s = table.concat(parts)
end
local has = member_test(s, #ARGV)
local out = {}
for i = 1, #ARGV do
  if not has(ARGV[i]) then out[#out + 1] = i end
end
return out
