-- KEYS[1] slot key (`slot:{<host>}`), KEYS[2] (single Redis only) the host's slot of the layout
-- before the tag, read when the first is absent and deleted once the first is written.
-- ARGV rate per second, burst, max wait ('' = none).  Returns the wait in seconds;
-- a wait above the max reserves nothing.  The clock is Redis's own, so workers with skewed clocks
-- share one sequence of slots.  Mirrors `reserve` and `keep_s` above.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = 1 / tonumber(ARGV[1])
local held = redis.call('GET', KEYS[1]) or (KEYS[2] and redis.call('GET', KEYS[2]))
local start = math.max(tonumber(held or now), now)
local wait = math.max(0, start - (tonumber(ARGV[2]) - 1) * interval - now)
if ARGV[3] ~= '' and wait > tonumber(ARGV[3]) then return tostring(wait) end
local tat = start + interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now + 1) * 1000))
if KEYS[2] then redis.call('DEL', KEYS[2]) end
return tostring(wait)
