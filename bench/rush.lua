-- wrk script for bench/rush.py: one operation per wrk process (book, search or view).
-- Args after `--`: op data_dir threads race_every day_start day_end
-- Each thread counts responses by status; done() prints one JSON line for the harness.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("gid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function lines(path)
  local t = {}
  for line in io.lines(path) do t[#t + 1] = line end
  return t
end

local tokens, patients, practices, slots, G, race_every, day_start, day_end
local k = 0
counts = {}

op = nil  -- global, so done() can read it from a thread

function init(args)
  op = args[1]
  local dir = args[2]
  G = tonumber(args[3])
  race_every = tonumber(args[4])
  day_start, day_end = args[5], args[6]
  tokens = lines(dir .. "/tokens.txt")
  patients, practices = {}, {}
  for _, line in ipairs(lines(dir .. "/patients.txt")) do
    local nhs, idx = line:match("(%d+) (%d+)")
    patients[#patients + 1] = nhs
    practices[#practices + 1] = tonumber(idx) + 1
  end
  if op == "book" then slots = lines(dir .. "/slots.txt") end
  math.randomseed(gid * 7919 + 17)
  counts = {}
end

local function auth(i)
  return {["Authorization"] = "Bearer " .. tokens[practices[i]], ["X-Forwarded-Proto"] = "https",
          ["Content-Type"] = "application/fhir+json", ["Accept"] = "application/fhir+json"}
end

function request()
  local i = math.random(#patients)
  if op == "book" then
    -- Client group gid books the next earliest slot in its lane; every race_every-th request goes
    -- for the slot another group has just gone for, as clients racing at 08:00 do.
    local n = k * G + gid
    if race_every > 0 and k > 0 and k % race_every == 0 then n = (k - 1) * G + (gid + 1) % G end
    k = k + 1
    local slot = slots[(n % #slots) + 1]
    local body = '{"resourceType":"Appointment","status":"booked","description":"Rush hour",' ..
      '"slot":[{"reference":"Slot/' .. slot .. '"}],' ..
      '"participant":[{"actor":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"' ..
      patients[i] .. '"}}}]}'
    return wrk.format("POST", "/fhir/Appointment", auth(i), body)
  elseif op == "search" then
    return wrk.format("GET", "/fhir/Slot?status=free&start=ge" .. day_start .. "&end=le" .. day_end .. "&_count=20", auth(i))
  else
    return wrk.format("GET", "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C" .. patients[i], auth(i))
  end
end

function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then for s, n in pairs(c) do total[s] = (total[s] or 0) + n end end
  end
  local parts = {}
  op = threads[1]:get("op")
  for s, n in pairs(total) do parts[#parts + 1] = '"' .. s .. '":' .. n end
  local e = summary.errors
  io.write(string.format(
    'JSON {"op":"%s","duration_us":%d,"requests":%d,"statuses":{%s},"socket_errors":%d,"timeouts":%d,' ..
    '"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f}\n',
    op, summary.duration, summary.requests, table.concat(parts, ","), e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
