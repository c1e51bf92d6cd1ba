-- KEYS[1] bucket hash (`bucket:{<host>}`), KEYS[2] (single Redis only) the host's bucket of the
-- layout before the tag, read when the first is absent and then deleted; ARGV rate per second,
-- burst.  Returns the wait in seconds ('0' = token taken).
-- The clock is Redis's own, so workers on hosts with skewed clocks share one bucket fairly.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
if KEYS[2] and not b[1] then b = redis.call('HMGET', KEYS[2], 'tokens', 'ts') end
if KEYS[2] then redis.call('DEL', KEYS[2]) end
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- A full bucket carries no information: let idle hosts' keys expire once full again (not before:
-- a bucket held by `hold_host.lua` is below zero and must stay so until it refills).
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
