-- wrk: GET /status?vn=… (the status page as a phone asks for it) over random numbers from bench/results/numbers.txt (5 % unknown).
local numbers = {}
for line in io.lines("bench/results/numbers.txt") do numbers[#numbers + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/status?vn=" .. numbers[math.random(#numbers)], {["Accept-Language"] = "de-DE,de;q=0.9,en;q=0.8", ["Accept-Encoding"] = "gzip"})
end
