-- wrk script: counts responses per HTTP status and per X-Cache value, and prints one JSON line (prefix
-- BENCH_JSON) when done. Each wrk thread runs its own Lua state, so every thread counts into its own tables
-- and done(), which runs in the main state, adds them up through thread:get().
--
-- What to request (environment, read by every state alike; none set: the command line's URL every time):
-- * BENCH_ROTATE_PATTERN holds one or two %d (e.g. /api/%d/%d/) and BENCH_ROTATE_COUNT the number of seeded
--   ids; pairs walk the whole N x N grid.
-- * BENCH_REQUESTS_FILE names a file of requests, one a line: METHOD <tab> path [<tab> JSON body]; each
--   request picks a line at random (repeat a line to weigh it). A request with a body gets Content-Type:
--   application/json and a fresh Idempotency-Key.
-- * BENCH_MIX=zipf: the mixed workload. User and product ranks follow Zipf's law with exponent
--   BENCH_ZIPF_S over BENCH_USERS and BENCH_PRODUCTS (rank r is id ((r - 1) * 15485863) % N + 1, which
--   spreads the hot rows over the table); BENCH_READ_SHARE of requests read the aggregate /api/<u>/<p>/,
--   BENCH_LIST_SHARE read a products list or search (terms from BENCH_SEARCH_TERMS, comma-separated), the
--   rest PATCH a product's stock or price with an Idempotency-Key. The BENCH_PROBES most popular products
--   are never written here: the harness's stale-read sampler writes them alone.

local threads = {}
local rotate_pattern = os.getenv("BENCH_ROTATE_PATTERN")
local rotate_count = tonumber(os.getenv("BENCH_ROTATE_COUNT") or "0")
local requests_file = os.getenv("BENCH_REQUESTS_FILE")
local mix = os.getenv("BENCH_MIX")
local SPREAD = 15485863 -- a prime, coprime with the catalogue sizes (products of 2s and 5s)

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function init(args)
   statuses = {}
   cache = {}
   -- Threads start far apart on the grid so they do not ask for the same pair at the same time.
   counter = (thread_number - 1) * 7919
   math.randomseed(os.time() * 1000 + thread_number)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   local state = headers["X-Cache"] or headers["x-cache"]
   if state then
      cache[state] = (cache[state] or 0) + 1
   end
end

local function idempotency_key()
   counter = counter + 1
   return string.format("bench-%d-%d-%d-%d", os.time(), thread_number, counter, math.random(1, 1000000000))
end

-- wrk.format() takes a request's headers instead of the command line's (-H), not in addition to them.
local function write(method, path, body)
   local headers = {}
   for name, value in pairs(wrk.headers) do headers[name] = value end
   headers["Content-Type"] = "application/json"
   headers["Idempotency-Key"] = idempotency_key()
   return wrk.format(method, path, headers, body)
end

-- Zipf's law over 1..n, exponent s > 0: rejection-inversion sampling (Hoermann and Derflinger, 1996, as in
-- Apache Commons RNG's RejectionInversionZipfSampler): no table, constant expected time.
local function helper1(x)
   if math.abs(x) > 1e-8 then return math.log(1 + x) / x end
   return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x))
end

local function helper2(x)
   if math.abs(x) > 1e-8 then return (math.exp(x) - 1) / x end
   return 1 + x * 0.5 * (1 + x * 1.0 / 3 * (1 + 0.25 * x))
end

local function zipf(n, s)
   local function h(x) return math.exp(-s * math.log(x)) end
   local function hIntegral(x)
      local logx = math.log(x)
      return helper2((1 - s) * logx) * logx
   end
   local function hIntegralInverse(x)
      local t = x * (1 - s)
      if t < -1 then t = -1 end
      return math.exp(helper1(t) * x)
   end
   local hx1 = hIntegral(1.5) - 1
   local hn = hIntegral(n + 0.5)
   local squeeze = 2 - hIntegralInverse(hIntegral(2.5) - h(2))
   return function()
      while true do
         local u = hn + math.random() * (hx1 - hn)
         local x = hIntegralInverse(u)
         local k = math.floor(x + 0.5)
         if k < 1 then k = 1 elseif k > n then k = n end
         if k - x <= squeeze or u >= hIntegral(k + 0.5) - h(k) then return k end
      end
   end
end

local function id_of(rank, n)
   return ((rank - 1) * SPREAD) % n + 1
end

if rotate_pattern and rotate_count > 0 then
   function request()
      counter = counter + 1
      local first = counter % rotate_count + 1
      local second = math.floor(counter / rotate_count) % rotate_count + 1
      return wrk.format(nil, string.format(rotate_pattern, first, second))
   end
elseif requests_file then
   local lines = {}
   for line in io.lines(requests_file) do
      local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
      if method then table.insert(lines, {method, path, body ~= "" and body or nil}) end
   end
   function request()
      local chosen = lines[math.random(1, #lines)]
      if chosen[3] then return write(chosen[1], chosen[2], chosen[3]) end
      return wrk.format(chosen[1], chosen[2])
   end
elseif mix == "zipf" then
   local users = tonumber(os.getenv("BENCH_USERS"))
   local products = tonumber(os.getenv("BENCH_PRODUCTS"))
   local s = tonumber(os.getenv("BENCH_ZIPF_S") or "1.1")
   local probes = tonumber(os.getenv("BENCH_PROBES") or "0")
   local read_share = tonumber(os.getenv("BENCH_READ_SHARE") or "0.90")
   local list_share = tonumber(os.getenv("BENCH_LIST_SHARE") or "0.05")
   local terms = {}
   for term in (os.getenv("BENCH_SEARCH_TERMS") or "lamp"):gmatch("[^,]+") do table.insert(terms, term) end
   local orderings = {"-price", "price", "-created_at", "name", "-stock"}
   local user_rank = zipf(users, s)
   local product_rank = zipf(products, s)
   function request()
      local r = math.random()
      if r < read_share then
         local path = string.format("/api/%d/%d/", id_of(user_rank(), users), id_of(product_rank(), products))
         return wrk.format("GET", path)
      elseif r < read_share + list_share then
         if math.random() < 0.5 then
            return wrk.format("GET", "/api/products/?search=" .. terms[math.random(1, #terms)])
         end
         return wrk.format("GET", "/api/products/?page_size=20&ordering=" .. orderings[math.random(1, #orderings)])
      end
      local rank = product_rank()
      if rank <= probes then rank = rank + probes end
      local path = string.format("/api/products/%d/", id_of(rank, products))
      counter = counter + 1
      if counter % 2 == 0 then
         return write("PATCH", path, string.format('{"stock": %d}', math.random(0, 999)))
      end
      return write("PATCH", path, string.format('{"price": "%d.%02d"}', math.random(1, 999), math.random(0, 99)))
   end
end

local function object(pairs_list)
   return "{" .. table.concat(pairs_list, ", ") .. "}"
end

local function totals(name)
   local sums = {}
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get(name) or {}) do
         sums[key] = (sums[key] or 0) + count
      end
   end
   return sums
end

local function counts(name, format)
   local fields = {}
   for key, count in pairs(totals(name)) do
      table.insert(fields, string.format(format, key, count))
   end
   return object(fields)
end

local function latency_fields(latency)
   local fields = {
      string.format('"min": %.0f', latency.min),
      string.format('"mean": %.1f', latency.mean),
      string.format('"max": %.0f', latency.max),
      string.format('"stdev": %.1f', latency.stdev),
   }
   for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
      table.insert(fields, string.format('"p%s": %.0f', tostring(p), latency:percentile(p)))
   end
   return object(fields)
end

function done(summary, latency, requests)
   local errors = summary.errors
   local fields = {
      string.format('"duration_us": %.0f', summary.duration),
      string.format('"requests": %.0f', summary.requests),
      string.format('"bytes": %.0f', summary.bytes),
      string.format(
         '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
         errors.connect, errors.read, errors.write, errors.status, errors.timeout
      ),
      '"latency_us": ' .. latency_fields(latency),
      '"statuses": ' .. counts("statuses", '"%d": %d'),
      '"cache": ' .. counts("cache", '"%s": %d'),
   }
   io.write("BENCH_JSON " .. object(fields) .. "\n")
end
