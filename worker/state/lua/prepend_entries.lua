-- KEYS[1] a feed's entry memory; ARGV ttl, digests as hex (`read_entries.lua`) to put before what
-- it holds.  A moved feed's old memory goes first: the new feed's own entries are the more recent.
--#include entries_lib.lua
if ARGV[2] == '' then return 0 end
local moved = string.gsub(ARGV[2], '..', function(h) return string.char(tonumber(h, 16)) end)
local s = load_entries(KEYS[1], {})
redis.call('SET', KEYS[1], moved .. s, 'EX', ARGV[1])
return 1
