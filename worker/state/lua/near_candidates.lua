-- KEYS the sequence counter, then the band hashes: per source (this layout, then on a single Redis
-- the one before the `{nd}` tag), per live generation, per band.  ARGV bands B, generations G, then
-- the B band fields.  Returns a new article number n (INCR), then (source, n) of each distinct
-- candidate, flattened; source 0 is this layout, 1 the one before.  Reads the bands only.
local B, G = tonumber(ARGV[1]), tonumber(ARGV[2])
local out, seen = {redis.call('INCR', KEYS[1])}, {}
for k = 0, #KEYS - 2 do
  local n = redis.call('HGET', KEYS[k + 2], ARGV[3 + k % B])
  local src = math.floor(k / (G * B))
  if n and not seen[src .. ':' .. n] then
    seen[src .. ':' .. n] = true
    out[#out + 1] = src
    out[#out + 1] = n
  end
end
return out
