#!/usr/bin/env bash
# Many long streams (issue 24), the real shape of LLM traffic: STREAMS concurrent streamed chat
# completions of about 30 s each (one chunk every 100 ms, 300 chunks, from
# tools/bench/paced_sse_upstream.c), opened over RAMP seconds by `plumb-bench streams` (one NIO
# thread), first straight to the upstream, then through plumb serve (release, bodies stored). While the streams run through Plumb its RSS and CPU are
# sampled every 5 s. Prints completed streams, time to first byte p50/p99 each way and the
# difference, Plumb's RSS over time and peak, and its CPU per stream. Asserts nothing.
#
#   tools/bench/streams_bench.sh [STREAMS (default 8000)] [WORKDIR (default /tmp/plumb-streams)]
#   RAMP=10 WORDS=300 DELAY_MS=100
#
# The upstream is a one-thread epoll server in C: plumb-mock (an async task per stream) saturated
# a core at 8,000 streams and timed connections out before Plumb was even in the path.
set -euo pipefail
cd "$(dirname "$0")/../.."
streams=${1:-8000}
work=${2:-/tmp/plumb-streams}
ramp=${RAMP:-10} words=${WORDS:-300} delay=${DELAY_MS:-100}
mkdir -p "$work"
swift build -c release --product plumb >/dev/null
cc -O2 -o "$work/paced_sse_upstream" tools/bench/paced_sse_upstream.c
swift build -c release --product plumb-bench >/dev/null
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
port_of() { sed -nE 's/.*listening on http:\/\/[^:]+:([0-9]+).*/\1/p' "$1" | head -1; }
wait_port() { for _ in $(seq 100); do [ -n "$(port_of "$1")" ] && return 0; sleep 0.1; done; echo "no port in $1" >&2; exit 1; }

mock_port=${UPSTREAM_PORT:-18310}
"$work/paced_sse_upstream" "$mock_port" "$words" "$delay" > "$work/mock.log" 2>&1 & pids+=($!)
mock_pid=$!
wait_port "$work/mock.log"
rm -rf "$work/data"
printf '[providers.openai]\nbase_url = "http://127.0.0.1:%s"\n' "$mock_port" > "$work/plumb.toml"
.build/release/plumb serve --config "$work/plumb.toml" --data "$work/data" --listen 127.0.0.1:0 > "$work/plumb.log" 2>&1 & pids+=($!)
plumb_pid=$!
wait_port "$work/plumb.log"
plumb_port=$(port_of "$work/plumb.log")
echo "open-file limit here: $(ulimit -n) (plumb raises its own to $(awk '/Max open files/{print $4}' /proc/$plumb_pid/limits))"

run() {   # URL -> plumb-bench's two lines
  .build/release/plumb-bench streams --url "$1" --streams "$streams" --ramp "$ramp" --timeout 240
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

echo "== direct to the paced upstream: $streams streams, $words chunks $delay ms apart, opened over $ramp s"
direct=$(run "http://127.0.0.1:$mock_port"); echo "$direct"
sleep 2
echo "== through plumb serve"
t0=$(ticks $plumb_pid); m0=$(ticks $mock_pid)
( while true; do awk '/^VmRSS/{printf "%.1f\n", $2 / 1024}' /proc/$plumb_pid/status; sleep 5; done ) > "$work/rss.txt" & sampler=$!
through=$(run "http://127.0.0.1:$plumb_port"); echo "$through"
kill $sampler 2>/dev/null || true
t1=$(ticks $plumb_pid); m1=$(ticks $mock_pid)
sleep 3
echo "plumb RSS every 5 s (MB): $(tr '\n' ' ' < "$work/rss.txt")"
echo "plumb RSS peak: $(sort -n "$work/rss.txt" | tail -1) MB; after the streams: $(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' /proc/$plumb_pid/status) MB"
awk -v d=$((t1 - t0)) -v m=$((m1 - m0)) -v hz="$hz" -v n="$streams" -v w="$words" 'BEGIN {
  printf "plumb CPU: %.1f s for %d streams = %.1f ms a stream, %.1f µs a chunk (the upstream: %.1f s)\n", d / hz, n, d / hz * 1000 / n, d / hz * 1e6 / (n * w), m / hz }'
python3 - "$direct" "$through" <<'PY'
import re, sys
def ttfb(s):
    m = re.search(r"p50=([\d.]+) p99=([\d.]+)", s)
    return float(m.group(1)), float(m.group(2))
(d50, d99), (p50, p99) = ttfb(sys.argv[1]), ttfb(sys.argv[2])
print(f"added time to first byte: p50 {p50 - d50:+.3f} ms, p99 {p99 - d99:+.3f} ms (direct {d50:.3f} / {d99:.3f} ms)")
PY
echo "spans recorded: $(curl -s "http://127.0.0.1:$plumb_port/_plumb/metrics" | awk '/^plumb_spans_written_total/{print $2}')"
