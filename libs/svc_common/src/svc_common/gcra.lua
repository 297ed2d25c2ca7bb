-- GCRA (the generic cell rate algorithm) in Redis, written once: svc_common.gcra prepends these functions to
-- every script that meters (the gateway's access step and token store, the login throttle).
--
-- Rate state never has a TTL: Redis runs with maxmemory-policy volatile-lfu, which evicts only keys that have
-- one (pages, cached objects), so memory pressure can never reset a limit. A key of a family with no bound
-- (one per address, per username, per presented token) is listed instead, with the time it may go, in a
-- sorted set (the "expiry set"), and later calls delete the keys whose time has come (sweep).

-- Keys past their time deleted by each call that lists a key: more than one, so a backlog only shrinks.
local SWEEP_BATCH = 4

local function sweep(expiry, now)
  local due = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, SWEEP_BATCH)
  for _, key in ipairs(due) do
    redis.call('DEL', key)
    redis.call('ZREM', expiry, key)
  end
end

-- List `key` in the expiry set, to be deleted at `deadline` (ms) unless listed again later.
local function expire_at(expiry, key, deadline, now)
  redis.call('ZADD', expiry, deadline, key)
  sweep(expiry, now)
end

-- One request against `limit` requests per `period` ms, a burst of `limit` included, at time `now` (ms).
-- Returns {allowed (1 or 0), remaining, reset_ms, retry_after_ms}. With `expiry`, the key is listed there.
local function gcra_take(key, now, limit, period, expiry)
  local interval = period / limit
  local tolerance = period - interval
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then
    tat = now
  end
  local allow_at = tat - tolerance
  if now < allow_at then
    return {0, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
  end
  local new_tat = tat + interval
  redis.call('SET', key, tostring(new_tat))
  if expiry then
    expire_at(expiry, key, new_tat + 1000, now)
  end
  local remaining = math.floor((now + tolerance - new_tat) / interval) + 1
  return {1, remaining, math.ceil(new_tat - now), 0}
end

-- Give one request back (it turned out not to count): the state as if it had not been taken.
local function gcra_give_back(key, now, limit, period)
  local tat = tonumber(redis.call('GET', key))
  if tat and tat > now then
    redis.call('SET', key, tostring(math.max(now, tat - period / limit)))
  end
end
