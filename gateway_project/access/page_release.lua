-- Give up a fill lock without storing, only if this request still holds it: a filler that overran the
-- lock's ttl must not free the lock of the request that took over.
-- KEYS[1]: the fill lock; ARGV[1]: the lock value this request set
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
