-- KEYS[1] content key; ARGV: article id, ttl.  Returns the owner when it is another article.
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
