-- wrk script: the same request at a fixed rate (RATE requests/s over all connections of one
-- thread), each request scheduled by the wall clock, so a slow answer does not push the
-- following requests back (no coordinated omission from pacing). Prints microsecond percentiles.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } plumb_timespec;
  int clock_gettime(int clk, plumb_timespec *tp);
]]
local ts = ffi.new("plumb_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- The shared request (request.lua, beside this script).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "request.lua")

local interval = 1000 / tonumber(os.getenv("RATE") or "1000")
local next_at = nil
function delay()
  local now = now_ms()
  if next_at == nil then next_at = now end
  next_at = next_at + interval
  local wait = next_at - now
  if wait < 0 then return 0 end
  return wait
end

function done(summary, latency, requests)
  io.write(string.format("paced: requests=%d non200=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f\n",
    summary.requests, summary.errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
