-- Each request: `GET <path>` with a bearer token picked at random from a file, preformatted
-- so that the script costs the same for every route (the baseline sends a token too).
-- Arguments: path, token file, and an optional pause between requests in ms.

local requests, count, pause = {}, 0, 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  local path, file = args[1], args[2]
  pause = tonumber(args[3] or "0")
  for token in io.lines(file) do
    count = count + 1
    requests[count] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
  end
  if count == 0 then error("no tokens in " .. file) end
  math.randomseed(seed * 7919)
  if pause > 0 then
    delay = function() return pause end
  end
end

function request()
  return requests[math.random(count)]
end
