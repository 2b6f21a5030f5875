#!/usr/bin/env bash
# Many long streams (issue 24), the real shape of LLM traffic: STREAMS concurrent streamed chat
# completions of about 30 s each (one chunk every 100 ms, 300 chunks, from
# tools/bench/paced_sse_upstream.c), opened over RAMP seconds by `plumb-bench streams` (one NIO
# thread): straight to the upstream, through nginx (one worker, proxy_buffering off: the
# reference proxy), then through plumb serve (release, bodies stored). While the streams run
# through Plumb its RSS is sampled every 5 s. Prints completed streams, time to first byte
# p50/p99 each way and the difference, Plumb's RSS over time and peak, and each proxy's CPU per
# chunk, user and system apart (the kernel's share is the same for any proxy on this VM; the
# user share is what a proxy's own code costs). Asserts nothing.
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
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; nginx -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true' EXIT
port_of() { sed -nE 's/.*listening on http:\/\/[^:]+:([0-9]+).*/\1/p' "$1" | head -1; }
wait_port() { for _ in $(seq 100); do [ -n "$(port_of "$1")" ] && return 0; sleep 0.1; done; echo "no port in $1" >&2; exit 1; }

mock_port=${UPSTREAM_PORT:-18310}
"$work/paced_sse_upstream" "$mock_port" "$words" "$delay" > "$work/mock.log" 2>&1 & pids+=($!)
mock_pid=$!
wait_port "$work/mock.log"
# nginx as the reference proxy: one worker, as many connections as the streams need.
mkdir -p "$work/nginx/logs"
nginx_port=${NGINX_PORT:-18312}
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile 20000;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    location / { proxy_pass http://127.0.0.1:$mock_port; proxy_http_version 1.1; proxy_buffering off; }
  }
}
NGINX
nginx -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true
nginx -p "$work/nginx" -c nginx.conf
sleep 0.5
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)
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
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }   # user, system
hz=$(getconf CLK_TCK)
per_chunk() {   # NAME PID "user0 sys0" -> CPU per chunk since then
  read -r u0 s0 <<< "$3"; read -r u1 s1 <<< "$(ticks "$2")"
  awk -v n="$1" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" -v c=$((streams * words)) 'BEGIN {
    printf "%s CPU: %.1f s (user %.1f, system %.1f) = %.1f µs a chunk (user %.1f, system %.1f)\n", n, (u + s) / hz, u / hz, s / hz,
      (u + s) / hz * 1e6 / c, u / hz * 1e6 / c, s / hz * 1e6 / c }'
}

echo "== direct to the paced upstream: $streams streams, $words chunks $delay ms apart, opened over $ramp s"
m0=$(ticks $mock_pid)
direct=$(run "http://127.0.0.1:$mock_port"); echo "$direct"
per_chunk "the upstream (direct)" $mock_pid "$m0"
sleep 2
echo "== through nginx (one worker, proxy_buffering off)"
n0=$(ticks "$nginx_worker")
via_nginx=$(run "http://127.0.0.1:$nginx_port"); echo "$via_nginx"
per_chunk nginx "$nginx_worker" "$n0"
echo "nginx RSS peak: $(awk '/^VmHWM/{printf "%.1f", $2 / 1024}' /proc/$nginx_worker/status) MB"
nginx -p "$work/nginx" -c nginx.conf -s stop
sleep 2
echo "== through plumb serve"
t0=$(ticks $plumb_pid)
( while true; do awk '/^VmRSS/{printf "%.1f\n", $2 / 1024}' /proc/$plumb_pid/status; sleep 5; done ) > "$work/rss.txt" & sampler=$!
# What holds it, part by part (/_plumb/metrics' plumb_memory_bytes, MB), on the same beat.
( while true; do
    curl -s -m 10 "http://127.0.0.1:$plumb_port/_plumb/metrics" \
      | awk '/^plumb_memory_bytes/ { match($0, /part="[a-z_]*"/); printf "%s=%.1f ", substr($0, RSTART + 6, RLENGTH - 7), $2 / 1048576 } END { print "" }'
    sleep 5
  done ) > "$work/parts.txt" & parts_sampler=$!
through=$(run "http://127.0.0.1:$plumb_port"); echo "$through"
kill $sampler $parts_sampler 2>/dev/null || true
per_chunk plumb $plumb_pid "$t0"
sleep 3
echo "plumb RSS every 5 s (MB): $(tr '\n' ' ' < "$work/rss.txt")"
echo "plumb RSS peak: $(sort -n "$work/rss.txt" | tail -1) MB; after the streams: $(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' /proc/$plumb_pid/status) MB"
echo "plumb memory by part every 5 s (MB):"; sed 's/^/  /' "$work/parts.txt"
python3 - "$direct" "$via_nginx" "$through" <<'PY'
import re, sys
def ttfb(s):
    m = re.search(r"p50=([\d.]+) p99=([\d.]+)", s)
    return float(m.group(1)), float(m.group(2))
(d50, d99) = ttfb(sys.argv[1])
print(f"direct time to first byte: p50 {d50:.3f} ms, p99 {d99:.3f} ms")
for name, out in (("nginx", sys.argv[2]), ("plumb", sys.argv[3])):
    p50, p99 = ttfb(out)
    print(f"added time to first byte, {name}: p50 {p50 - d50:+.3f} ms, p99 {p99 - d99:+.3f} ms")
PY
echo "spans recorded: $(curl -s "http://127.0.0.1:$plumb_port/_plumb/metrics" | awk '/^plumb_spans_written_total/{print $2}')"
