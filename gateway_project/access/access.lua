-- One round trip per request: the token's cached record, one GCRA step and the page-cache lookup.
-- KEYS[1]: the token's record key (a client's, for a person's session: clients/records.py), or "" for an
--          anonymous caller
-- KEYS[2]: the rate key for an anonymous caller (per client IP)
-- KEYS[3]: the page key, or "" when the request is not cacheable
-- KEYS[4]: the page's fill lock; KEYS[5..]: the invalidation counters the page depends on, then its parts
-- ARGV[1]: route group; ARGV[2]: default limit; ARGV[3]: default period in ms; ARGV[4]: lock ttl in ms;
-- ARGV[5]: this request's lock value (unique), so that only this request can release the lock it takes;
-- ARGV[6]: how many invalidation counters follow KEYS[4]; any keys after them are the page's parts (an
--   aggregate's user and product detail pages), one per counter, in the same order
-- Reply: {verdict, client, limit, period_ms, remaining, reset_ms, retry_after_ms, page...}
--   verdict: "ok", "limited", "miss" (no cached record) or "expired"
--   page: {} | {"hit", etag, content_type, body, headers}
--         | {"fill" or "wait", generations, "miss" or "stale", part bodies...}: a part's body when its page is
--           current, false (nil) otherwise
-- Time comes from Redis itself, so every gateway replica shares one clock.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group = ARGV[1]
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local client = ''
local rate_key = KEYS[2]
local unlimited = false

if KEYS[1] ~= '' then
  local rec = redis.call('HMGET', KEYS[1], 'client', 'limit', 'period_ms', 'unlimited', 'expires_ms')
  if not rec[1] then
    return {'miss'}
  end
  if tonumber(rec[5]) <= now then
    return {'expired'}
  end
  client = rec[1]
  unlimited = rec[4] == '1'
  if tonumber(rec[2]) > 0 and group ~= 'auth' then
    limit = tonumber(rec[2])
    period = tonumber(rec[3])
  end
  rate_key = 'gw:rl:' .. group .. ':c' .. client
end

local reply
if unlimited then
  reply = {'ok', client, -1, 0, 0, 0, 0}
else
  -- GCRA with a burst of `limit`: at most `limit` requests in any window of `period`.
  local interval = period / limit
  local tolerance = period - interval
  local tat = tonumber(redis.call('GET', rate_key) or now)
  if tat < now then
    tat = now
  end
  local allow_at = tat - tolerance
  if now < allow_at then
    return {'limited', client, limit, period, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
  end
  local new_tat = tat + interval
  redis.call('SET', rate_key, tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
  local remaining = math.floor((now + tolerance - new_tat) / interval) + 1
  reply = {'ok', client, limit, period, remaining, math.ceil(new_tat - now), 0}
end

if KEYS[3] ~= '' then
  local counters = tonumber(ARGV[6])
  local generations = {}
  for i = 5, 4 + counters do
    generations[#generations + 1] = redis.call('GET', KEYS[i]) or '0'
  end
  local current = table.concat(generations, ',')
  local entry = redis.call('HMGET', KEYS[3], 'generations', 'etag', 'content_type', 'body', 'headers')
  if entry[1] == current then
    reply[8] = 'hit'
    reply[9] = entry[2]
    reply[10] = entry[3]
    reply[11] = entry[4]
    reply[12] = entry[5] or '[]'
  else
    local owner = redis.call('SET', KEYS[4], ARGV[5], 'NX', 'PX', tonumber(ARGV[4]))
    reply[8] = owner and 'fill' or 'wait'
    reply[9] = current
    reply[10] = entry[1] and 'stale' or 'miss'
    for i = 5 + counters, #KEYS do
      local part = redis.call('HMGET', KEYS[i], 'generations', 'body')
      reply[#reply + 1] = part[1] == generations[i - 4 - counters] and part[2]
    end
  end
end
return reply
