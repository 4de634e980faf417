-- Each request: `POST /v1/sign-in/password` as one of the first N users, at random.
-- Arguments: N, and the users' password.

local requests, count = {}, 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  local users, password = tonumber(args[1]), args[2]
  for i = 1, users do
    local body = string.format('{"email":"user%d@bench.test","password":"%s"}', i, password)
    requests[i] = wrk.format("POST", "/v1/sign-in/password",
      { ["Content-Type"] = "application/json" }, body)
  end
  count = users
  math.randomseed(seed * 7919)
end

function request()
  return requests[math.random(count)]
end
