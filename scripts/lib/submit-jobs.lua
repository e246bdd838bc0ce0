-- wrk script of scripts/bench-api and scripts/soak: POST /v1/jobs with a sha256 job, flat out,
-- or paced when given a rate per wrk thread (`wrk ... -- RATE`): requests spaced evenly, and
-- when the server falls behind they go out at once (a request is timed from when it is sent).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"compute","payload":{"algorithm":"sha256","input":{"data":"load"}},"priority":"normal"}'

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } submit_jobs_timespec;
int clock_gettime(int clock, submit_jobs_timespec *t);
]]
local clock = ffi.new("submit_jobs_timespec")
local CLOCK_MONOTONIC = 1
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1e3 + tonumber(clock.tv_nsec) / 1e6
end

local interval, due
function init(args) if args[1] then interval = 1000 / tonumber(args[1]) end end
function delay()
  if not interval then return 0 end
  local now = now_ms()
  -- A schedule more than 50 ms behind is not caught up in a burst.
  due = math.max(due or now, now - 50) + interval
  return math.max(0, math.floor(due - now))
end
