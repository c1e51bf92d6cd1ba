-- KEYS[1] the stream, then per record its emitted marker (`emitted:{<stream>}:<id>`, in the
-- stream's slot) and, when ARGV[3] is 2, the marker of the layout before it (single Redis only).
-- ARGV maxlen, marker ttl, markers a record (1 or 2), then (id, url, data) per record.
-- The marker and the XADD happen together or not at all: a retried task never adds a second entry.
local w, n = tonumber(ARGV[3]), 0
for i = 4, #ARGV, 3 do
  local k = 1 + (i - 4) / 3 * w + 1
  local before = w == 2 and redis.call('EXISTS', KEYS[k + 1]) == 1
  if not before and redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[2]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
               'id', ARGV[i], 'url', ARGV[i + 1], 'data', ARGV[i + 2])
    n = n + 1
  end
end
return n
