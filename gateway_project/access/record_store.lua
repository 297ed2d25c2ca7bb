-- Cache a record (a token's, or a session's client's) after the database verified it, only if its ticket is
-- still there: a revocation (or any change that drops the record) since the access script issued the ticket
-- deleted it, and the record must then not come back. A stored token record gives back the "auth" step its
-- verification took. (svc_common/gcra.lua, prepended, defines gcra_give_back and expire_at.)
-- KEYS[1]: the record key; KEYS[2]: the caller's address's "auth" rate key, or "" when no step was taken;
-- KEYS[3]: the expiry set
-- ARGV[1]: the ticket; ARGV[2]: client id; ARGV[3]: its limit (0: the defaults); ARGV[4]: its period in ms;
-- ARGV[5]: "1" if unlimited; ARGV[6]: when the token expires (ms); ARGV[7]: how long the record may be
-- trusted without the database (ms); ARGV[8]: the "auth" limit; ARGV[9]: the "auth" period in ms;
-- ARGV[10]: how much longer (ms) the record is kept, for use while the database cannot be reached
-- Reply: 1 when stored, 0 when the ticket was gone.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HGET', KEYS[1], 'ticket') ~= ARGV[1] then
  return 0
end
local verified_until = now + tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'client', ARGV[2], 'limit', ARGV[3], 'period_ms', ARGV[4], 'unlimited', ARGV[5],
  'expires_ms', ARGV[6], 'verified_until', verified_until)
-- The verification is over: requests waiting for it (access.lua's "pending") read the record now.
redis.call('HDEL', KEYS[1], 'verifying_until')
expire_at(KEYS[3], KEYS[1], verified_until + tonumber(ARGV[10]), now)
if KEYS[2] ~= '' then
  gcra_give_back(KEYS[2], now, tonumber(ARGV[8]), tonumber(ARGV[9]))
end
return 1
