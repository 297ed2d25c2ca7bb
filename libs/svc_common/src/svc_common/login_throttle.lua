-- One password guess at a login form: a GCRA step for the caller's address and one for the username tried,
-- both or neither, before any password is checked; or, after a login that succeeded, both steps given back.
-- (svc_common/gcra.lua, prepended, defines gcra_take and gcra_give_back.)
-- KEYS[1]: the address's key, or "" when the caller's address is metered elsewhere (the gateway's token
-- endpoint: the access step); KEYS[2]: the username's key; KEYS[3]: the expiry set
-- ARGV[1]: "take" or "give_back"; ARGV[2]: the limit; ARGV[3]: the period in ms
-- Reply: {allowed (1 or 0), retry_after_ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local metered = {KEYS[2]}
if KEYS[1] ~= '' then
  metered = {KEYS[1], KEYS[2]}
end
if ARGV[1] == 'give_back' then
  for _, key in ipairs(metered) do
    gcra_give_back(key, now, limit, period)
  end
  return {1, 0}
end
for i, key in ipairs(metered) do
  local step = gcra_take(key, now, limit, period, KEYS[3])
  if step[1] == 0 then
    for j = 1, i - 1 do
      gcra_give_back(metered[j], now, limit, period)
    end
    return {0, step[4]}
  end
end
return {1, 0}
