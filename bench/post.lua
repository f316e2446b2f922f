-- bench/post.lua: a wrk script for bench/run. Each request POSTs one observation (township
-- t000001, indicator i000, January: codes kpimon gen writes) with a new value, authorised by
-- the admin token in KPIMON_TOKEN; done prints the answers by status and the timeouts.
local token = os.getenv("KPIMON_TOKEN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; n = 0 end
function request()
  n = n + 1
  local body = "township,indicator,period,value\nt000001,i000,2024-01," .. n .. "\n"
  return wrk.format("POST", "/api/v1/observations", {["Content-Type"] = "text/csv", ["Authorization"] = "Bearer " .. token}, body)
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d %d\n", k, v)) end
  io.write(string.format("timeouts %d\n", summary.errors.timeout))
end
