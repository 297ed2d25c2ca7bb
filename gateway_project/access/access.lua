-- One round trip per request: the token's cached record, one GCRA step and the page-cache lookup.
-- (svc_common/gcra.lua, prepended, defines gcra_take and expire_at.)
-- KEYS[1]: the token's record key (a client's, for a person's session: clients/records.py), or "" for an
--          anonymous caller
-- KEYS[2]: the caller's address's "auth" rate key: token creation, and tokens the database must verify
-- KEYS[3]: the expiry set (keys with no TTL that later calls delete: gcra.lua)
-- KEYS[4]: the page key, or "" when the request is not cacheable
-- KEYS[5]: the page's fill lock; KEYS[6..]: the invalidation counters the page depends on, then its parts
-- ARGV[1]: route group; ARGV[2]: its default limit; ARGV[3]: its default period in ms;
-- ARGV[4]: the "auth" limit; ARGV[5]: the "auth" period in ms; ARGV[6]: lock ttl in ms;
-- ARGV[7]: a value unique to this request: the fill lock it takes, or the ticket a verification stores with;
-- ARGV[8]: how long, in ms, a verification may take to store the record (its ticket's life);
-- ARGV[9]: "1" when the record is a token's, whose verification costs the address an "auth" step; "0" for a
--          client's, whose person Django has already authenticated;
-- ARGV[10]: how many invalidation counters follow KEYS[5]; any keys after them are the page's parts (an
--   aggregate's user and product detail pages), one per counter, in the same order
-- ARGV[11]: 0, or, when the database could not verify the token, how long (ms) past its verified_until a
--   record may still be used (TOKEN_RECORD_GRACE_SECONDS); in that mode an unusable record is a plain
--   {"miss"}: no "auth" step, no ticket
-- ARGV[12]: how long (ms) a miss claims the verification: requests for the same record meanwhile are
--   {"pending"} and wait for it (access/record_store.lua or a failed check ends the claim)
-- ARGV[13]: "1" when this request has waited out a claim already: it verifies, whoever claims
-- Reply: {verdict, client, limit, period_ms, remaining, reset_ms, retry_after_ms, page...}
--   verdict: "ok", "limited", "miss", "pending" or "expired"; a miss is {"miss", ticket}: there is no verified
--   record, the database must decide, and only a store that brings this ticket back caches the record
--   (access/record_store.lua); revoking deletes the record, ticket included, so a verification that read
--   the database before a revocation cannot cache the token after it. {"pending"}: another request is
--   verifying the same record; this one has paid nothing yet.
--   page: {} | {"hit", etag, content_type, body, headers}
--         | {"fill" or "wait", generations, "miss" or "stale", part bodies...}: "fill" when this request took
--           the fill lock, "wait" when another holds it for the same counters; a part's body when its page is
--           current, false (nil) otherwise
-- Time comes from Redis itself, so every gateway replica shares one clock.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group = ARGV[1]
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local auth_limit = tonumber(ARGV[4])
local auth_period = tonumber(ARGV[5])
local client = ''
local rate_key = KEYS[2]
local expiry = KEYS[3]
local unlimited = false

if KEYS[1] ~= '' then
  local rec = redis.call('HMGET', KEYS[1], 'client', 'limit', 'period_ms', 'unlimited', 'expires_ms',
    'verified_until', 'ticket', 'verifying_until')
  local grace = tonumber(ARGV[11])
  if not rec[1] or tonumber(rec[6]) + grace <= now then
    if grace > 0 then
      return {'miss', ''}
    end
    -- A burst of a token's first requests asks the database once: the others wait for its record.
    if tonumber(rec[8] or 0) > now and ARGV[13] ~= '1' then
      return {'pending'}
    end
    -- Not verified (unknown, or verified too long ago): for a token, the address pays one "auth" step
    -- before the database is asked, so guessing tokens is metered before any database work; a token that
    -- proves known gets the step back when its record is stored.
    if ARGV[9] == '1' then
      local step = gcra_take(KEYS[2], now, auth_limit, auth_period, expiry)
      if step[1] == 0 then
        return {'limited', '', auth_limit, auth_period, step[2], step[3], step[4]}
      end
    end
    local ticket = rec[7] or ARGV[7]
    redis.call('HSET', KEYS[1], 'ticket', ticket, 'verifying_until', now + tonumber(ARGV[12]))
    -- Until the ticket's end, or the record's own later end (kept for its grace).
    local deadline = now + tonumber(ARGV[8])
    local kept = tonumber(redis.call('ZSCORE', expiry, KEYS[1]) or deadline)
    expire_at(expiry, KEYS[1], math.max(deadline, kept), now)
    return {'miss', ticket}
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
  -- One per client and group: bounded by the clients, so not listed in the expiry set.
  rate_key = 'gw:rl:' .. group .. ':c' .. client
  expiry = nil
end

local reply
if unlimited then
  reply = {'ok', client, -1, 0, 0, 0, 0}
else
  local step = gcra_take(rate_key, now, limit, period, expiry)
  if step[1] == 0 then
    return {'limited', client, limit, period, step[2], step[3], step[4]}
  end
  reply = {'ok', client, limit, period, step[2], step[3], 0}
end

if KEYS[4] ~= '' then
  local counters = tonumber(ARGV[10])
  local generations = {}
  for i = 6, 5 + counters do
    generations[#generations + 1] = redis.call('GET', KEYS[i]) or '0'
  end
  local current = table.concat(generations, ',')
  local entry = redis.call('HMGET', KEYS[4], 'generations', 'etag', 'content_type', 'body', 'headers')
  if entry[1] == current then
    reply[8] = 'hit'
    reply[9] = entry[2]
    reply[10] = entry[3]
    reply[11] = entry[4]
    reply[12] = entry[5] or '[]'
  else
    -- The lock names the counters its fill read ("<unique>@<generations>"). A fill of older counters (a write
    -- landed since it began) stores a page already stale for this request: this request takes the lock over.
    local tag = '@' .. current
    local holder = redis.call('GET', KEYS[5])
    if holder and string.sub(holder, -#tag) == tag then
      reply[8] = 'wait'
    else
      redis.call('SET', KEYS[5], ARGV[7] .. tag, 'PX', tonumber(ARGV[6]))
      reply[8] = 'fill'
    end
    reply[9] = current
    reply[10] = entry[1] and 'stale' or 'miss'
    for i = 6 + counters, #KEYS do
      local part = redis.call('HMGET', KEYS[i], 'generations', 'body')
      reply[#reply + 1] = part[1] == generations[i - 5 - counters] and part[2]
    end
  end
end
return reply
