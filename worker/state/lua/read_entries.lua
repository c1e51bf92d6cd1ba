-- KEYS[1] a feed's entry memory.  Returns its digests as hex (the client decodes replies as text),
-- reading a set of the previous layout as digests too; writes nothing.
--#include entries_lib.lua
local s = peek_entries(KEYS[1])
return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
