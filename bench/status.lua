-- wrk: GET /api/v1/status/{vn} over random numbers from bench/results/numbers.txt (5 % unknown).
local numbers = {}
for line in io.lines("bench/results/numbers.txt") do numbers[#numbers + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/status/" .. numbers[math.random(#numbers)])
end
