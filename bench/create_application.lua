-- wrk: POST /api/v1/applications as a logged-in caseworker. The cookie and CSRF token come from
-- the environment (bench/run.sh logs in first); the site from BENCH_SITE.
local cookie = os.getenv("BENCH_COOKIE")
local csrf = os.getenv("BENCH_CSRF")
local site = os.getenv("BENCH_SITE")
local body = '{"siteId":"' .. site .. '","documentType":"eat","issuance":"first","familyName":"Bench","givenNames":"Mark",' ..
  '"dateOfBirth":"01.01.1990","mobileNumber":"0151 12345678","pickupMethod":"box","feeSettled":true}'
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = cookie
wrk.headers["X-CSRF-Token"] = csrf
