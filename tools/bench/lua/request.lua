-- The request every bench script sends: a ~1 KB OpenAI chat completion.
-- PATH_PREFIX (default /v1) and AUTH (the bearer key) come from the environment.
local prompt = string.rep("Summarise the following log line for the on-call engineer. ", 15)
wrk.method = "POST"
wrk.path = (os.getenv("PATH_PREFIX") or "/v1") .. "/chat/completions"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' .. prompt .. '"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("AUTH") or "sk-bench")
