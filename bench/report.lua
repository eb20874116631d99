-- wrk script for bench/run.py: sets the request headers, picks each request's path, paces a
-- crawler, and reports latency percentiles.
--
-- Headers come from the environment, one per variable: BENCH_HEADER_1="Cookie: sessionid=...",
-- BENCH_HEADER_2="HX-Request: true", ... (numbered from 1, read until the first gap).
-- done() prints one machine-readable line starting with BENCH_RESULT; latencies are in
-- microseconds, as wrk measures them.

local i = 1
while true do
  local header = os.getenv("BENCH_HEADER_" .. i)
  if header == nil then break end
  local name, value = header:match("^%s*([^:]+)%s*:%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
  i = i + 1
end

-- With BENCH_PATHS (one path a line), every request asks for one of them at random, in which
-- "{id}" becomes a random whole number from BENCH_ID_LOW to BENCH_ID_HIGH and "{nonce}" a random
-- number that makes the URL one the site has not seen (a query parameter it ignores, so that
-- its page cache misses).
local paths = {}
for line in (os.getenv("BENCH_PATHS") or ""):gmatch("[^\n]+") do paths[#paths + 1] = line end
if #paths > 0 then
  local low = tonumber(os.getenv("BENCH_ID_LOW")) or 1
  local high = tonumber(os.getenv("BENCH_ID_HIGH")) or low
  request = function()
    local path = paths[math.random(1, #paths)]
    path = path:gsub("{id}", function() return tostring(math.random(low, high)) end)
    path = path:gsub("{nonce}", function() return tostring(math.random(1, 2 ^ 31 - 1)) end)
    return wrk.format(nil, path)
  end
end

-- Every thread runs its own Lua state, and LuaJIT seeds each alike: unseeded, wrk's threads ask
-- for the same "random" sequence side by side, so that half the requests find the page the
-- other thread just had rendered. Each thread is seeded with BENCH_SEED (one per wrk run, so
-- that a run does not repeat its warm-up's sequence) and its own number.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("bench_thread", threads)
end
init = function(args)
  math.randomseed((tonumber(os.getenv("BENCH_SEED")) or 0) * 1000 + bench_thread)
end

-- With BENCH_DELAY_MS, each connection waits that long after a response before it sends its
-- next request: a crawler's pace rather than a load test's.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS"))
if delay_ms then
  delay = function() return delay_ms end
end

local function int(x) return math.floor(tonumber(x) or 0) end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d mean_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    int(summary.requests), int(summary.duration), int(summary.bytes),
    int(latency:percentile(50)), int(latency:percentile(90)), int(latency:percentile(99)),
    int(latency.max), int(latency.mean),
    int(e.connect), int(e.read), int(e.write), int(e.status), int(e.timeout)))
end
