-- KEYS[1] a feed's entry memory; ARGV one digest per entry key.  Returns the positions (1 = the
-- first digest) of the digests not remembered.  Writes nothing: a memory of the previous layout
-- (a set of whole keys) is read as digests, and converted by the next add_entries.
--#include entries_lib.lua
local s = peek_entries(KEYS[1])
local has = member_test(s, #ARGV)
local out = {}
for i = 1, #ARGV do
  if not has(ARGV[i]) then out[#out + 1] = i end
end
return out
