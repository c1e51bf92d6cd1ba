-- KEYS[1] a feed's entry memory.  Returns its digests as hex (the client decodes replies as text),
-- reading a set of the previous layout as digests too; writes nothing.
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
return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
