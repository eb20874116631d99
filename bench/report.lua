-- wrk script for bench/run.py: sets the request headers and reports latency percentiles.
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

-- With BENCH_PATH="/catalog/book/{id}", BENCH_ID_LOW and BENCH_ID_HIGH, every request asks for
-- that path with a random id in the range (the same sequence in every run).
local path = os.getenv("BENCH_PATH")
if path then
  local low, high = tonumber(os.getenv("BENCH_ID_LOW")), tonumber(os.getenv("BENCH_ID_HIGH"))
  request = function()
    return wrk.format(nil, (path:gsub("{id}", tostring(math.random(low, high)))))
  end
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
