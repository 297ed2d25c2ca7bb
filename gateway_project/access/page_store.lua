-- Store a fetched page and give up its fill lock, if this request still holds it, in one step.
-- KEYS[1]: the page; KEYS[2]: its fill lock
-- ARGV[1]: the invalidation counters read before the fetch; ARGV[2]: etag; ARGV[3]: content type;
-- ARGV[4]: body; ARGV[5]: the answer's own headers (JSON); ARGV[6]: ttl in seconds;
-- ARGV[7]: the lock value this request set, or "" if it holds none
redis.call('HSET', KEYS[1], 'generations', ARGV[1], 'etag', ARGV[2], 'content_type', ARGV[3], 'body', ARGV[4],
  'headers', ARGV[5])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
if ARGV[7] ~= '' and redis.call('GET', KEYS[2]) == ARGV[7] then
  redis.call('DEL', KEYS[2])
end
return 1
