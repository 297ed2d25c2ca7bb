-- One round trip per request: look up the token's cached record, then take one GCRA step.
-- KEYS[1]: the token record key, or "" for an anonymous caller
-- KEYS[2]: the rate key for an anonymous caller (per client IP)
-- ARGV[1]: route group; ARGV[2]: default limit; ARGV[3]: default period in ms
-- Reply: {verdict, client, limit, period_ms, remaining, reset_ms, retry_after_ms}
-- verdict: "ok", "limited", "miss" (no cached record) or "expired".
-- Time comes from Redis itself, so every gateway replica shares one clock.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group = ARGV[1]
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local client = ''
local rate_key = KEYS[2]

if KEYS[1] ~= '' then
  local rec = redis.call('HMGET', KEYS[1], 'client', 'limit', 'period_ms', 'unlimited', 'expires_ms')
  if not rec[1] then
    return {'miss'}
  end
  if tonumber(rec[5]) <= now then
    return {'expired'}
  end
  client = rec[1]
  if rec[4] == '1' then
    return {'ok', client, -1, 0, 0, 0, 0}
  end
  if tonumber(rec[2]) > 0 and group ~= 'auth' then
    limit = tonumber(rec[2])
    period = tonumber(rec[3])
  end
  rate_key = 'gw:rl:' .. group .. ':c' .. client
end

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
return {'ok', client, limit, period, remaining, math.ceil(new_tat - now), 0}
