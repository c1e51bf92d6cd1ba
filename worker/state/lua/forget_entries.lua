-- KEYS[1] a feed's entry memory; ARGV ttl (seconds), then the digests to forget.
--#include entries_lib.lua
local s, changed = load_entries(KEYS[1], {})
for i = 2, #ARGV do
  local p = find_entry(s, ARGV[i])
  if p then
    s = string.sub(s, 1, p - 1) .. string.sub(s, p + W)
    changed = true
  end
end
if changed then
  if #s == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], s, 'EX', ARGV[1]) end
end
return 1
