-- KEYS[1] slot key, KEYS[2] gate bucket hash (`slot:{<host>}`, `bucket:{<host>}`: one slot), and
-- on a single Redis KEYS[3], KEYS[4] the two of the layout before the tag (read, then deleted); ARGV rate per second, burst, delay in seconds.
-- A server asked us to wait: reserve the first slot at least `delay` from now, moving the TAT past
-- it, and empty the gate until then.  Returns the wait in seconds.  Redis's clock, as in
-- `reserve_slot.lua`.  Mirrors `reserve_after` and `hold_tokens` in worker/state/slots.py.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst, delay = tonumber(ARGV[1]), tonumber(ARGV[2]), math.max(0, tonumber(ARGV[3]))
local interval = 1 / rate
local floor = now + delay + (burst - 1) * interval
local held = redis.call('GET', KEYS[1]) or (KEYS[3] and redis.call('GET', KEYS[3]))
local start = math.max(tonumber(held or floor), floor, now)
local wait = math.max(0, start - (burst - 1) * interval - now)
local tat = start + interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now + 1) * 1000))
local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
if KEYS[4] and not b[1] then b = redis.call('HMGET', KEYS[4], 'tokens', 'ts') end
if KEYS[3] then redis.call('DEL', KEYS[3], KEYS[4]) end
local tokens = burst
if b[1] then tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * rate) end
tokens = math.min(tokens, 1 - delay * rate)
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'ts', tostring(now))
-- Kept until the bucket is full again: a held (negative) bucket must not expire early.
redis.call('PEXPIRE', KEYS[2], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
