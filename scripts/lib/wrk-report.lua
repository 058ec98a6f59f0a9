-- wrk script: optional POST body and headers from the environment, and a one-line JSON
-- summary (requests, errors, latency percentiles) at the end.
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local auth = os.getenv("WRK_AUTHORIZATION")
if auth then
  wrk.headers["Authorization"] = auth
end

-- WRK_KEYS (comma-separated API keys): each request takes the next key, and `{n}` in the body
-- becomes a number new on every request (from WRK_FIRST, each thread in a range of its own), so
-- callers and recipients rotate.
local keys = {}
for key in string.gmatch(os.getenv("WRK_KEYS") or "", "[^,]+") do
  keys[#keys + 1] = key
end
if #keys > 0 then
  local threads = 0
  function setup(thread)
    threads = threads + 1
    thread:set("first", (tonumber(os.getenv("WRK_FIRST")) or 0) + threads * 1000000)
  end
  local sent = 0
  function request()
    sent = sent + 1
    local n = first + sent
    wrk.headers["Authorization"] = "Bearer " .. keys[n % #keys + 1]
    local rotated = string.gsub(wrk.body, "{n}", string.format("%07d", n % 10000000))
    return wrk.format(nil, nil, nil, rotated)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.2f,"errors":%d,"non_2xx":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
