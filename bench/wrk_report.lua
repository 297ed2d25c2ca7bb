-- wrk script: counts responses per HTTP status and prints one JSON line (prefix BENCH_JSON) when done.
-- Each wrk thread runs its own Lua state, so every thread counts into its own table and done(), which
-- runs in the main state, adds the tables up through thread:get().
-- Optional id rotation (environment, read by every state alike): BENCH_ROTATE_PATTERN holds one or two
-- %d (e.g. /api/%d/%d/) and BENCH_ROTATE_COUNT the number of seeded ids; pairs walk the whole N x N grid.

local threads = {}
local rotate_pattern = os.getenv("BENCH_ROTATE_PATTERN")
local rotate_count = tonumber(os.getenv("BENCH_ROTATE_COUNT") or "0")

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function init(args)
   statuses = {}
   -- Threads start far apart on the grid so they do not ask for the same pair at the same time.
   counter = (thread_number - 1) * 7919
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

if rotate_pattern and rotate_count > 0 then
   function request()
      counter = counter + 1
      local first = counter % rotate_count + 1
      local second = math.floor(counter / rotate_count) % rotate_count + 1
      return wrk.format(nil, string.format(rotate_pattern, first, second))
   end
end

local function object(pairs_list)
   return "{" .. table.concat(pairs_list, ", ") .. "}"
end

local function status_counts()
   local totals = {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses") or {}) do
         totals[status] = (totals[status] or 0) + count
      end
   end
   local fields = {}
   for status, count in pairs(totals) do
      table.insert(fields, string.format('"%d": %d', status, count))
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
      '"statuses": ' .. status_counts(),
   }
   io.write("BENCH_JSON " .. object(fields) .. "\n")
end
