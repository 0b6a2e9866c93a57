-- wrk Lua script: /v1/health/service/<name>?passing over the services catalog_bench registered
-- (svc-0 … svc-(N-1)), a different service per request.
-- usage: wrk -t2 -c64 -d10s --latency -s health_service.lua URL -- SERVICES [stale]
local services, suffix, n = 10000, "", 0
function init(args)
  services = tonumber(args[1] or "10000")
  if args[2] == "stale" then suffix = "&stale" end
end
function request()
  n = n + 1
  return wrk.format("GET", "/v1/health/service/svc-" .. (n * 7919 % services) .. "?passing" .. suffix)
end
function done(s, lat, req)
  io.write(string.format("RESULT reqs=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d\n", s.requests,
    s.requests/(s.duration/1e6), lat:percentile(50)/1000, lat:percentile(99)/1000, s.errors.status))
end
