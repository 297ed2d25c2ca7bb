-- One look of a request waiting for another's fill of a page (access.pages.wait).
-- KEYS[1]: the page; KEYS[2]: its fill lock; ARGV[1]: the invalidation counters the waiting request read
-- Reply: {"hit", etag, content_type, body, headers} once the page is stored with those counters; {"filling"}
-- while the lock is held for them (access.lua tags it "<unique>@<generations>"); {"gone"} otherwise: the
-- filler gave its lock up without such a page (not cacheable, an error) or lost it, so waiting is over.
local entry = redis.call('HMGET', KEYS[1], 'generations', 'etag', 'content_type', 'body', 'headers')
if entry[1] == ARGV[1] then
  return {'hit', entry[2], entry[3], entry[4], entry[5] or '[]'}
end
local tag = '@' .. ARGV[1]
local holder = redis.call('GET', KEYS[2]) or ''
if string.sub(holder, -#tag) == tag then
  return {'filling'}
end
return {'gone'}
