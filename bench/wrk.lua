-- wrk script of make bench (bench/wrk.py). The request comes from the environment:
-- BENCH_WRK_METHOD, BENCH_WRK_BODY (form-encoded), BENCH_WRK_AUTH (Authorization header).
-- done() prints one parseable line: BENCH_RESULT key=value ...
wrk.method = os.getenv("BENCH_WRK_METHOD") or "GET"
local body = os.getenv("BENCH_WRK_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local auth = os.getenv("BENCH_WRK_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  statuses = {}
end

-- wrk itself counts only status >= 400; anything but a 2xx is an error here.
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, counts = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local codes = {}
  for status, count in pairs(counts) do
    table.insert(codes, status .. "x" .. count)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d codes=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    bad, e.connect, e.read, e.write, e.timeout, table.concat(codes, ",") .. ";"))
end
