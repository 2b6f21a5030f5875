#!/usr/bin/env bash
# RSS over time at the maximum rate (issue 24): plumb serve (release, bodies stored) in front of
# the static nginx upstream (tools/bench/static_upstream.sh), wrk -t1 -c32 without pause for
# MINUTES; every 10 s the serve's VmRSS, its CPU per call over those 10 s and the request rate
# are recorded. Prints RSS at 1, 5, 10, 30 and 60 minutes (those reached) and the whole series,
# writes WORKDIR/soak.csv and WORKDIR/soak.png (tools/bench/plot_png.py). Asserts nothing.
#
#   tools/bench/proxy_soak.sh [MINUTES (default 60)] [WORKDIR (default /tmp/plumb-soak)]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-60}
work=${2:-/tmp/plumb-soak}
upstream_port=${UPSTREAM_PORT:-18190}
mkdir -p "$work"
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
swift build -c release --product plumb >/dev/null
source tools/bench/plumb_on_static.sh
start_plumb_on_static "$work" "$upstream_port"
pid=$plumb_pid
port=${plumb_url##*:}

# The load: one wrk per minute, back to back (wrk's own counters then cover each minute).
( for _ in $(seq "$minutes"); do
    AUTH=sk-bench PATH_PREFIX=/v1 wrk -t1 -c32 -d60s -s tools/bench/lua/chat.lua "http://127.0.0.1:$port" >> "$work/wrk.log" 2>&1
  done ) & load=$!
pids+=($load)

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
written() { curl -s "http://127.0.0.1:$port/_plumb/metrics" | awk '/^plumb_spans_written_total/{print $2}'; }
echo "minutes,rss_mb,cpu_us_per_call,req_per_s" > "$work/soak.csv"
start=$(date +%s.%N); t0=$(ticks); n0=$(written)
while kill -0 $load 2>/dev/null; do
  sleep 10
  now=$(date +%s.%N); t1=$(ticks); n1=$(written)
  rss=$(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  awk -v s="$start" -v now="$now" -v rss="$rss" -v dt=$((t1 - t0)) -v hz="$hz" -v dn=$((n1 - n0)) \
    'BEGIN { printf "%.2f,%s,%.1f,%.0f\n", (now - s) / 60, rss, dn ? dt / hz * 1e6 / dn : 0, dn / 10 }' >> "$work/soak.csv"
  t0=$t1; n0=$n1
done
echo "== plumb serve at the maximum rate for $minutes min (static upstream; wrk -t1 -c32)"
python3 - "$work/soak.csv" "$minutes" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for m in (1, 5, 10, 30, 60):
    near = [r for r in rows if abs(float(r["minutes"]) - m) < 0.09]
    if near:
        r = near[0]
        print(f"after {m:>2} min: RSS {r['rss_mb']} MB, {r['req_per_s']} req/s, {r['cpu_us_per_call']} µs CPU per call")
rss = [float(r["rss_mb"]) for r in rows]
cpu = [float(r["cpu_us_per_call"]) for r in rows if float(r["cpu_us_per_call"]) > 0]
print(f"RSS min {min(rss):.1f} / median {statistics.median(rss):.1f} / max {max(rss):.1f} MB over {len(rows)} samples;"
      f" CPU per call median {statistics.median(cpu):.1f} µs")
PY
python3 tools/bench/plot_png.py "$work/soak.csv" "$work/soak.png" --x minutes --y rss_mb --title "plumb serve RSS (MB) at max rate"
echo "series: $work/soak.csv, plot: $work/soak.png"
