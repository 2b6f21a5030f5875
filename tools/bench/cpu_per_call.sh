#!/usr/bin/env bash
# CPU per proxied call of two or more plumb builds, side by side (an A/B of a change): each runs
# `plumb serve` (bodies stored) in front of the same release plumb-mock, and wrk sends the shared
# ~1 KB chat completion paced at RATE req/s (default 2,000: far below what the mock and plumb
# take, so neither waits on the other) for SECONDS (default 10), targets interleaved round by
# round. CPU is the serve process's utime+stime over the run (/proc/PID/stat), divided by the
# requests wrk completed; also the paced latency percentiles and the serve's RSS at the end.
# Prints figures; asserts nothing.
#
#   tools/bench/cpu_per_call.sh before=/tmp/rel-before/plumb after=.build/release/plumb [ROUNDS (default 5)]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${WORK:-/tmp/plumb-cpu-bench}
rate=${RATE:-2000}
seconds=${SECONDS_PER_RUN:-10}
targets=() rounds=5
for a in "$@"; do case $a in *=*) targets+=("$a");; *) rounds=$a;; esac; done
[ ${#targets[@]} -ge 1 ] || { echo "usage: $0 NAME=PLUMB_BINARY... [ROUNDS]" >&2; exit 2; }
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
[ -x .build/release/plumb-mock ] || swift build -c release --product plumb-mock >/dev/null
rm -rf "$work"; mkdir -p "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
port_of() { sed -nE 's/.*listening on http:\/\/[^:]+:([0-9]+).*/\1/p' "$1" | head -1; }
wait_port() { for _ in $(seq 100); do [ -n "$(port_of "$1")" ] && return 0; sleep 0.1; done; echo "no port in $1" >&2; exit 1; }

.build/release/plumb-mock --listen 127.0.0.1:0 > "$work/mock.log" 2>&1 & pids+=($!)
wait_port "$work/mock.log"
mock_port=$(port_of "$work/mock.log")
printf '[providers.openai]\nbase_url = "http://127.0.0.1:%s"\n' "$mock_port" > "$work/plumb.toml"

declare -A port pid
for t in "${targets[@]}"; do
  name=${t%%=*} bin=${t#*=}
  "$bin" serve --config "$work/plumb.toml" --data "$work/data-$name" --listen 127.0.0.1:0 > "$work/$name.log" 2>&1 & pids+=($!)
  pid[$name]=$!
  wait_port "$work/$name.log"
  port[$name]=$(port_of "$work/$name.log")
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
: > "$work/results.txt"
for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    name=${t%%=*}
    sleep 1
    before=$(ticks "${pid[$name]}")
    out=$(RATE=$rate wrk -t1 -c8 -d"${seconds}s" -s tools/bench/lua/paced.lua "http://127.0.0.1:${port[$name]}" 2>&1 | grep '^paced:')
    after=$(ticks "${pid[$name]}")
    n=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$out")
    cpu_us=$(awk -v d=$((after - before)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')
    rss=$(awk '/^VmRSS/{print int($2/1024)}' "/proc/${pid[$name]}/status")
    echo "round $round $name: cpu_per_call_us=$cpu_us rss_mb=$rss $out" | tee -a "$work/results.txt"
  done
done
echo "== medians over $rounds rounds (RATE=$rate req/s, ${seconds} s each)"
python3 - "$work/results.txt" "${targets[@]%%=*}" <<'PY'
import re, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for name in sys.argv[2:]:
    runs = [dict(kv.split("=", 1) for kv in r[3:] if "=" in kv) for r in rows if r[2] == name + ":"]
    med = lambda k: statistics.median(float(x[k]) for x in runs)
    print(f"{name}: cpu_per_call_us={med('cpu_per_call_us'):.1f} p50_us={med('p50_us'):.0f} "
          f"p99_us={med('p99_us'):.0f} rss_mb={med('rss_mb'):.0f}")
PY
