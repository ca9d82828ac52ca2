-- wrk script: each request POSTs a 3-value JSON reading for the next of many devices.
-- Keys come from the file named by BENCH_KEYS (one ingest key per line); values stay
-- below every benchmark rule's threshold except the for-duration one (co2 > 900),
-- which is pending now and then. BENCH_DELAY_MS > 0 paces each connection (for a
-- fixed, lower request rate: connections * 1000 / (delay + latency) per second).
local keys = {}
local n = 0
local next_key = 0
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_KEYS")) do
    n = n + 1
    keys[n] = line
  end
  math.randomseed((thread_index or 1) * 7919)
  next_key = math.random(n)
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  next_key = next_key % n + 1
  local body = string.format('{"temperature":%.1f,"humidity":%.1f,"co2":%d}',
                             19 + math.random() * 4, 30 + math.random() * 30,
                             400 + math.random(600))
  return wrk.format("POST", "/api/v1/receive-data?apiKey=" .. keys[next_key], nil, body)
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  io.write(string.format("STATS requests=%d duration_us=%d req_per_s=%.1f p99_us=%d " ..
                         "errors_status=%d errors_connect=%d errors_read=%d errors_timeout=%d\n",
                         summary.requests, summary.duration,
                         summary.requests / (summary.duration / 1e6),
                         latency:percentile(99), summary.errors.status,
                         summary.errors.connect, summary.errors.read, summary.errors.timeout))
end
