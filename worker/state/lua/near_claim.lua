-- Check-and-insert of one article in the near-duplicate index (`worker.state.redis.near`).
-- KEYS the band hashes as in near_candidates.lua (S sources x G generations x B bands), then M
-- sketch hashes.  ARGV B, G, S, expire at, matches needed, sketch, record id, the new number n,
-- M, then (source, n // 100) of each sketch hash, then the B band fields.
-- Returns {1, record_id, matches} for a duplicate, {0, n} after inserting, or {2} when a band
-- names a candidate whose sketch hash is not in KEYS (it arrived since near_candidates.lua ran):
-- the caller asks again.
local B, G, S = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local expire_at, need, sketch, record_id = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local n_new, M = tonumber(ARGV[8]), tonumber(ARGV[9])
local bands = S * G * B
local sk = {}
for j = 1, M do sk[ARGV[8 + 2 * j] .. ':' .. ARGV[9 + 2 * j]] = KEYS[bands + j] end
local fields = 10 + 2 * M
local zeros = {}
for x = 0, 255 do
  local c = 0
  for s = 0, 6, 2 do
    if bit.band(bit.rshift(x, s), 3) == 0 then c = c + 1 end
  end
  zeros[x] = c
end
local seen, best, best_id = {}, -1, nil
for k = 0, bands - 1 do
  local n = redis.call('HGET', KEYS[k + 1], ARGV[fields + k % B])
  local src = math.floor(k / (G * B))
  if n and not seen[src .. ':' .. n] then
    seen[src .. ':' .. n] = true
    local num = tonumber(n)
    local key = sk[src .. ':' .. math.floor(num / 100)]
    if not key then return {2} end
    local stored = redis.call('HGET', key, num % 100)
    if stored then
      local m = 0
      for j = 1, #sketch do
        m = m + zeros[bit.bxor(string.byte(sketch, j), string.byte(stored, j))]
      end
      if m > best then best, best_id = m, string.sub(stored, #sketch + 1) end
    end
  end
end
if best >= need then return {1, best_id, best} end
for i = 0, B - 1 do
  local key = KEYS[(G - 1) * B + i + 1]
  redis.call('HSETNX', key, ARGV[fields + i], n_new)
  redis.call('EXPIREAT', key, expire_at)
end
local skey = sk['0:' .. math.floor(n_new / 100)]
redis.call('HSET', skey, n_new % 100, sketch .. record_id)
redis.call('EXPIREAT', skey, expire_at)
return {0, n_new}
