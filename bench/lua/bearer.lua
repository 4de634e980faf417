-- Each request: `GET <path>` with a bearer token picked at random from a file, preformatted
-- so that the script costs the same for every route (the baseline sends a token too).
-- Arguments: path, token file, an optional pause between requests in ms, and an optional
-- `walk N`: instead of random picks, thread k of N sends the tokens k, k+N, k+2N… in turn,
-- starting again at k after the last (to put every token in a server's cache once).

local requests, count, pause = {}, 0, 0
local threads = 0
local walk, step, position = false, 1, 1

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
  if args[4] == "walk" then
    walk, step, position = true, tonumber(args[5]), seed
  end
end

function request()
  if walk then
    local chosen = requests[position]
    position = position + step
    if position > count then position = seed end
    return chosen
  end
  return requests[math.random(count)]
end
