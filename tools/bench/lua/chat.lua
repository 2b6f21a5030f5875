-- wrk script for max-throughput runs: the shared ~1 KB chat completion, as fast as it goes.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "request.lua")

function done(summary, latency, requests)
  io.write(string.format("non200=%d\n", summary.errors.status))
end
