-- Give the caller's address back the "auth" step a token's verification took, when the database, not the
-- token, failed: an outage of the gateway's database must not lock every client behind an address out.
-- (svc_common/gcra.lua, prepended, defines gcra_give_back.)
-- KEYS[1]: the address's "auth" rate key
-- ARGV[1]: the "auth" limit; ARGV[2]: the "auth" period in ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
gcra_give_back(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]))
return 1
