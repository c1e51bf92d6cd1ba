-- A feed's entry memory is one string of 8-byte digests (`codec.entry_digest`), oldest first,
-- so a remembered entry costs 8 bytes.  The layout before it, a set of whole entry keys, is
-- turned into one when first touched: its members (unordered) first, those in `recent` last.
local W = 8
local function entry_digest(key)
  local hex = string.sub(redis.sha1hex(key), 1, 2 * W)
  return (string.gsub(hex, '..', function(h) return string.char(tonumber(h, 16)) end))
end
-- Returns the memory and whether it was converted from the old layout (it must be written).
local function load_entries(key, recent)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'string' then return redis.call('GET', key), false end
  if kind ~= 'set' then return '', false end
  local first, last = {}, {}
  for _, m in ipairs(redis.call('SMEMBERS', key)) do
    local d = entry_digest(m)
    if recent[d] then last[#last + 1] = d else first[#first + 1] = d end
  end
  redis.call('DEL', key)
  return table.concat(first) .. table.concat(last), true
end
-- Returns the memory as it is, a set of the previous layout read as digests; writes nothing.
local function peek_entries(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'string' then return redis.call('GET', key) end
  if kind ~= 'set' then return '' end
  local parts = {}
  for _, m in ipairs(redis.call('SMEMBERS', key)) do parts[#parts + 1] = entry_digest(m) end
  return table.concat(parts)
end
-- Returns where digest `d` starts in `s` (on a digest boundary), or nil.
local function find_entry(s, d)
  local init = 1
  while true do
    local p = string.find(s, d, init, true)
    if not p then return nil end
    if (p - 1) % W == 0 then return p end
    init = p + 1
  end
end
-- Returns a test `has(d)` of digest `d` in memory `s`, for `n` digests to look up: a plain search
-- is memchr-fast for a few keys; many keys against a long memory index it once.
local function member_test(s, n)
  if n * #s > 1048576 then
    local all = {}
    for p = 1, #s, W do all[string.sub(s, p, p + W - 1)] = true end
    return function(d) return all[d] end
  end
  return function(d) return find_entry(s, d) ~= nil end
end
