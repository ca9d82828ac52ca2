-- wrk script: POST a small JSON reading (3 values), like a device would.
-- The path comes from the URL given to wrk, or from the env var BENCH_PATH
-- (e.g. "/api/v1/receive-data?apiKey=..."), or from the first script argument:
--   wrk -s post.lua http://127.0.0.1:8080 -- /api/v1/receive-data?apiKey=KEY
local path_override = os.getenv("BENCH_PATH")

wrk.method = "POST"
wrk.body = '{"temperature":21.5,"humidity":40.2,"co2":612}'
wrk.headers["Content-Type"] = "application/json"

-- wrk formats the request once, after init, so the path override is cheap.
function init(args)
  if args[1] ~= nil and args[1] ~= "" then
    path_override = args[1]
  end
  if path_override ~= nil and path_override ~= "" then
    wrk.path = path_override
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
