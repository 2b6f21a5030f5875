#!/usr/bin/env bash
# Queries on a live store (issue 24): the 8 benchmark queries (query_bench.py's, same NOW) on a
# copy of query_bench.sh's compacted 10M store, first idle, then while `plumb serve` appends to
# that store at RATE req/s (default 1,000, wrk paced by the wall clock against the static
# upstream). A live store's recent end is many small level-0 segments (cut every second, merged
# every 10 s); the queries should not pay for them, nor much for sharing two cores with the
# proxy. Then once more with serve stopped and the small segments kept, to tell the two apart.
# Prints the runs' medians side by side, the segments at each, the proxy's achieved rate and
# CPU. Figures only; asserts nothing.
#
#   tools/bench/query_under_load.sh [WORKDIR (default /tmp/plumb-bench)]
#   GENERATOR=independent (default) or default: which query_bench.sh store to copy. RATE, RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/plumb-bench}
rate=${RATE:-1000}
runs=${RUNS:-5}
generator=${GENERATOR:-independent}
tag=10000000; [ "$generator" = default ] || tag="$generator-10000000"
src="$work/query-data-$tag"
[ -f "$src/catalog.sqlite" ] || { echo "run GENERATOR=$generator tools/bench/query_bench.sh first (it builds $src)" >&2; exit 2; }
source tools/bootstrap.sh
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
swift build -c release --product plumb >/dev/null
swift build -c release --product plumb-bench >/dev/null
swift build -c release --product plumb-mock >/dev/null
py=.venv/bin/python
live="$work/live-$tag"
rm -rf "$live"
cp -a "$src" "$live"
segments() { ls "$live/segments" | wc -l; }
span_id=$(.build/release/plumb query --data "$live" --format csv "SELECT span_id FROM spans WHERE ts_start >= '2026-10-16' ORDER BY ts_start LIMIT 1" | tail -1)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
}
trap cleanup EXIT
port=${UPSTREAM_PORT:-18190}
nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
tools/bench/static_upstream.sh "$work" "$port" >&2

echo "== idle: the compacted store, $(segments) segments"
$py tools/bench/query_under_load.py --plumb-data "$live" --span-id "$span_id" --runs "$runs" --out "$work/qul-idle.json"

printf '[providers.openai]\nbase_url = "http://127.0.0.1:%s"\n' "$port" > "$work/qul.toml"
.build/release/plumb serve --config "$work/qul.toml" --data "$live" --listen 127.0.0.1:0 > "$work/qul-serve.log" 2>&1 & pids+=($!)
serve=$!
for _ in $(seq 100); do grep -q "listening on" "$work/qul-serve.log" && break; sleep 0.1; done
url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/qul-serve.log" | head -1)
RATE=$rate wrk -t1 -c8 -d600s -s tools/bench/lua/paced.lua "$url" > "$work/qul-wrk.log" 2>&1 & pids+=($!)
load=$!
sleep 20     # a live recent end: level-0 segments cut every second, merged every 10 s
ticks=$(getconf CLK_TCK)
cpu0=$(awk '{print $14 + $15}' /proc/$serve/stat)
t0=$(date +%s.%N)
spans0=$(curl -s "$url/_plumb/metrics" | awk '/^plumb_spans_written_total/ {print $2}')
echo "== under load: plumb serve at $rate req/s, $(segments) segments now"
$py tools/bench/query_under_load.py --plumb-data "$live" --span-id "$span_id" --runs "$runs" \
  --out "$work/qul-loaded.json" --compare "$work/qul-idle.json"
t1=$(date +%s.%N)
cpu1=$(awk '{print $14 + $15}' /proc/$serve/stat)
spans1=$(curl -s "$url/_plumb/metrics" | awk '/^plumb_spans_written_total/ {print $2}')
kill $load 2>/dev/null || true
awk -v s0="${spans0:-0}" -v s1="${spans1:-0}" -v c0="$cpu0" -v c1="$cpu1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" -v segs="$(segments)" 'BEGIN {
  secs = t1 - t0; calls = s1 - s0; per = 0
  if (calls > 0) per = 1e6 * (c1 - c0) / hz / calls
  printf "\nduring the queries (%.0f s): plumb serve stored %d spans (%.0f/s), used %.0f%% of a core (%.0f us per call); %d segments at the end\n",
    secs, calls, calls / secs, 100 * (c1 - c0) / hz / secs, per, segs }'
# The same store idle again, its live recent end kept: what the small segments cost on their own.
kill $serve 2>/dev/null || true
for _ in $(seq 100); do kill -0 $serve 2>/dev/null || break; sleep 0.1; done
echo "== idle again, the small segments kept: $(segments) segments"
$py tools/bench/query_under_load.py --plumb-data "$live" --span-id "$span_id" --runs "$runs" \
  --out "$work/qul-after.json" --compare "$work/qul-idle.json" | sed -n '/^query/,$p'
