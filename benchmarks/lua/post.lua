-- POST one fixed body, read from a file, to the URL; print a JSON summary at the end.
-- wrk -s post.lua URL -- BODY_FILE CONTENT_TYPE [HEADER_NAME HEADER_VALUE]
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*all")
  f:close()
  wrk.method = "POST"
  if args[2] ~= "" then wrk.headers["Content-Type"] = args[2] end
  if args[3] then wrk.headers[args[3]] = args[4] end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
