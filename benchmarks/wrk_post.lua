-- wrk script of bench_serving.py: POST the JSON body in the file WRK_BODY_FILE, with the header
-- `Authorization: <WRK_AUTHORIZATION>` (the generated API's key; the other servers ignore it).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = assert(os.getenv("WRK_AUTHORIZATION"), "WRK_AUTHORIZATION is not set")
local file = assert(io.open(assert(os.getenv("WRK_BODY_FILE"), "WRK_BODY_FILE is not set"), "rb"))
wrk.body = file:read("*a")
file:close()
