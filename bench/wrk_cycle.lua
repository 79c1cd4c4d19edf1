-- wrk script: send pre-generated callback requests, each thread its own slice, so none repeats.
-- Usage: wrk -t T -c C -d D -s bench/wrk_cycle.lua URL -- REQUESTS_FILE T
-- Each line of REQUESTS_FILE is "<path with query>\t<body>". A thread that runs out starts again
-- from its first request (a "wrap": the server then sees duplicates); done() reports the wraps.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  requests, counter, wraps = {}, 1, 0
  local headers = { ["Content-Type"] = "text/xml" }
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      requests[#requests + 1] = wrk.format("POST", line:sub(1, tab - 1), headers, line:sub(tab + 1))
    end
    i = i + 1
  end
end

function request()
  local r = requests[counter]
  counter = counter + 1
  if counter > #requests then
    counter = 1
    wraps = wraps + 1
  end
  return r
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("wraps")
  end
  io.write(string.format("wraps: %d\n", total))
end
