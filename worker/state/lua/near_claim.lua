-- Returns {1, record_id, matches} for a duplicate, else {0, n} after inserting.
-- Every key derives from ARGV[1]: fine for one Redis; a cluster would need a hash tag.
local prefix, gen, live = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local expire_at, need, sketch, record_id = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local zeros = {}
for x = 0, 255 do
  local c = 0
  for s = 0, 6, 2 do
    if bit.band(bit.rshift(x, s), 3) == 0 then c = c + 1 end
  end
  zeros[x] = c
end
local seen, best, best_id = {}, -1, nil
for g = gen - live + 1, gen do
  for i = 8, #ARGV, 2 do
    local n = redis.call('HGET', prefix .. 'nd:b:' .. g .. ':' .. ARGV[i], ARGV[i + 1])
    if n and not seen[n] then
      seen[n] = true
      local num = tonumber(n)
      local stored = redis.call('HGET', prefix .. 'nd:s:' .. math.floor(num / 100), num % 100)
      if stored then
        local m = 0
        for j = 1, #sketch do
          m = m + zeros[bit.bxor(string.byte(sketch, j), string.byte(stored, j))]
        end
        if m > best then best, best_id = m, string.sub(stored, #sketch + 1) end
      end
    end
  end
end
if best >= need then return {1, best_id, best} end
local n = redis.call('INCR', prefix .. 'nd:seq')
for i = 8, #ARGV, 2 do
  local key = prefix .. 'nd:b:' .. gen .. ':' .. ARGV[i]
  redis.call('HSETNX', key, ARGV[i + 1], n)
  redis.call('EXPIREAT', key, expire_at)
end
local skey = prefix .. 'nd:s:' .. math.floor(n / 100)
redis.call('HSET', skey, n % 100, sketch .. record_id)
redis.call('EXPIREAT', skey, expire_at)
return {0, n}
