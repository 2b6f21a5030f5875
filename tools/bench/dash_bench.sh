#!/usr/bin/env bash
# Dashboard benchmark (issue 5). 10,000,000 generated spans over the 30 days up to now in a data
# directory that `plumb serve` writes into at 500 requests/s (wrk, paced by the wall clock,
# through the mock) for the whole run; meanwhile:
#   1. time per frame of each shipped dashboard, in process as `plumb dash` refreshes it
#      (`plumb-bench dash --live --gap 2`, a fresh process per dashboard: first frame, then
#      median and p99 of the next ones);
#   2. CPU used by a real `plumb dash DASHBOARD` at its default refresh (2 s) under tmux:
#      utime+stime from /proc/PID/stat over MEASURE seconds after a warm-up, as % of one core.
# Prints figures; asserts nothing.
#
#   tools/bench/dash_bench.sh [WORKDIR (default /tmp/plumb-bench)]   SPANS=10000000 FRAMES=15 MEASURE=60
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/plumb-bench}
n=${SPANS:-10000000}
frames=${FRAMES:-15}
measure=${MEASURE:-60}
mkdir -p "$work"
PLUMB_SKIP_VENV=1 source tools/bootstrap.sh
command -v wrk >/dev/null || { echo "installing wrk" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
for p in plumb plumb-bench plumb-mock; do swift build -c release --product $p >/dev/null; done
bin=.build/release

spans="$work/dash-spans.jsonl"
data="$work/dash-data"
if [ ! -d "$data" ]; then
  if [ ! -s "$spans" ]; then
    echo "== generating $n spans over the last 30 days"
    python3 tools/gen_spans.py --count "$n" --seed 1 --start "$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%S)" --days 30 \
      --bodies 0 --out "$spans"
  fi
  echo "== importing"
  $bin/plumb import --data "$data" "$spans" | tail -1
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; tmux -L plumb-dash-bench kill-server 2>/dev/null || true; }
trap cleanup EXIT
port_of() { sed -nE 's/.*listening on http:\/\/[^:]+:([0-9]+).*/\1/p' "$1" | head -1; }
wait_port() { for _ in $(seq 200); do [ -n "$(port_of "$1")" ] && break; sleep 0.1; done; port_of "$1"; }

$bin/plumb-mock --listen 127.0.0.1:0 > "$work/mock.log" 2>&1 & pids+=($!)
mock_port=$(wait_port "$work/mock.log")
printf '[providers.openai]\nbase_url = "http://127.0.0.1:%s"\n' "$mock_port" > "$work/dash-plumb.toml"
$bin/plumb serve --config "$work/dash-plumb.toml" --data "$data" --listen 127.0.0.1:0 > "$work/serve.log" 2>&1 & pids+=($!)
serve_port=$(wait_port "$work/serve.log")
total=$(( 60 + frames * 2 * 5 + (measure + 20) * 5 + 60 ))
RATE=500 PATH_PREFIX=/openai/v1 wrk -t1 -c8 -d${total}s -s tools/bench/lua/paced.lua "http://127.0.0.1:$serve_port" > "$work/wrk.log" 2>&1 & pids+=($!)
wrk_pid=$!
echo "== plumb serve on :$serve_port taking 500 requests/s (wrk, for up to ${total}s); store: $n spans + live traffic"
sleep 10

echo "== time per frame (ms), in process, refreshed every 2 s with live traffic; each dashboard in a fresh process (its first frame cold)"
for board in overview incidents spend providers tail; do
  $bin/plumb-bench dash "$data" --live --gap 2 --frames "$frames" "$board"
done

echo "== CPU of plumb dash at the default refresh (2 s), % of one core over ${measure}s after 20 s"
for board in overview incidents spend providers tail; do
  # A new session right after kill-server can meet the dying server ("server exited
  # unexpectedly"): wait for its socket to go, and retry once.
  tmux -L plumb-dash-bench kill-server 2>/dev/null || true
  for _ in $(seq 20); do tmux -L plumb-dash-bench has-session 2>/dev/null || break; sleep 0.1; done
  tmux -L plumb-dash-bench new-session -d -x 160 -y 50 "LANG=C.UTF-8 $bin/plumb dash --data $data $board" 2>/dev/null \
    || { sleep 1; tmux -L plumb-dash-bench new-session -d -x 160 -y 50 "LANG=C.UTF-8 $bin/plumb dash --data $data $board"; }
  sleep 1
  pid=$(pgrep -f "^$bin/plumb dash --data $data $board" | head -1)
  [ -n "$pid" ] || { echo "dashboard=$board: plumb dash did not start"; continue; }
  sleep 19
  ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
  a=$(ticks); sleep "$measure"; b=$(ticks)
  hz=$(getconf CLK_TCK)
  awk -v a="$a" -v b="$b" -v hz="$hz" -v s="$measure" -v d="$board" 'BEGIN { printf "dashboard=%s cpu_pct=%.2f\n", d, (b - a) / hz / s * 100 }'
  tmux -L plumb-dash-bench kill-server 2>/dev/null || true
done
echo "== load: $($bin/plumb query --data "$data" --format csv "SELECT round(count(*) / 60.0) AS spans_per_s FROM spans WHERE ts_start >= now() - INTERVAL '70 seconds' AND ts_start < now() - INTERVAL '10 seconds'" | tail -1) spans/s landed over the last minute"
kill "$wrk_pid" 2>/dev/null || true
