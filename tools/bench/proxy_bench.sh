#!/usr/bin/env bash
# Proxy benchmark (issues 3, 24): one static upstream, one load tool, in one run: direct to the
# upstream, through nginx (reverse proxy, keepalive upstream), through plumb serve (bodies stored)
# and through LiteLLM's proxy (1.109.1, in a throwaway virtualenv) where it runs, and through the
# floor of a Swift NIO proxy (`plumb-bench proxy-floor`: raw bytes, and NIO's HTTP/1 codecs; none
# of Plumb's work), which shows what of Plumb's cost is its own. Prints figures; asserts nothing.
#
#   tools/bench/proxy_bench.sh [WORKDIR (default /tmp/plumb-proxy-bench)] [ROUNDS (default 3)]
#   PLUMB_BENCH_LITELLM=0 skips LiteLLM.
#
# The upstream is nginx serving a recorded chat completion and SSE stream as static files
# (tools/bench/static_upstream.sh): the method (../shared/bench/README.md) wants it at least 5x
# faster than what it measures, and its direct rate is printed beside the others to show it is.
# plumb-mock stays for what only it can do (slow streams, faults: tools/tests, Tests/sdk).
#
# Method: targets interleaved round by round on an idle machine, medians over rounds. Max
# throughput: wrk -t1 -c32 (10 s); CPU per call there = the target's process-tree CPU over the
# run / requests. Latency: wrk paced by the wall clock (tools/bench/lua/paced.lua) at 1,000 req/s
# and at 40 req/s over 4 connections. Streams: time to first byte of the SSE answer with curl, 50
# sequential requests, median: each on a new connection, and again on one kept-alive connection. RSS: the target's process tree, sampled every 0.25 s during the
# throughput run (peak) and after each round (the series shows whether it keeps growing).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=${1:-/tmp/plumb-proxy-bench}
rounds=${2:-3}
upstream_port=${UPSTREAM_PORT:-18180}
mkdir -p "$work"
source tools/bootstrap.sh
for tool in wrk nginx curl; do
  command -v $tool >/dev/null || { echo "installing $tool" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light curl >/dev/null; }
done
swift build -c release --product plumb >/dev/null
swift build -c release --product plumb-mock >/dev/null
swift build -c release --product plumb-bench >/dev/null

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true
  nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
}
trap cleanup EXIT

settle() {   # wait (up to 30 s) until the 1-minute load average is under 0.6
  for _ in $(seq 30); do awk '{exit !($1 < 0.6)}' /proc/loadavg && return 0; sleep 1; done
}

port_of() { sed -nE 's/.*listening on http:\/\/[^:]+:([0-9]+).*/\1/p' "$1" | head -1; }

# --- the static upstream
nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
tools/bench/static_upstream.sh "$work" "$upstream_port" >&2
mock_port=$upstream_port
mock_pid=$(cat "$work/static/nginx.pid")

# --- nginx as the reference reverse proxy
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream mock { server 127.0.0.1:$mock_port; keepalive 64; }
  server {
    listen 127.0.0.1:18181;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
nginx -p "$work/nginx" -c nginx.conf
nginx_pid=$(cat "$work/nginx/nginx.pid")

# --- plumb serve, bodies stored (the default)
rm -rf "$work/plumb-data"
printf '[providers.openai]\nbase_url = "http://127.0.0.1:%s"\n' "$mock_port" > "$work/plumb.toml"
.build/release/plumb serve --config "$work/plumb.toml" --data "$work/plumb-data" --listen 127.0.0.1:0 > "$work/plumb.log" 2>&1 & pids+=($!)
plumb_pid=$!
for _ in $(seq 100); do [ -n "$(port_of "$work/plumb.log")" ] && break; sleep 0.1; done
plumb_port=$(port_of "$work/plumb.log")

# --- the floor of a Swift NIO proxy: raw bytes, and NIO's HTTP/1 codecs (ProxyFloor.swift)
.build/release/plumb-bench proxy-floor --upstream "$mock_port" --listen 18183 > "$work/floor-raw.log" 2>&1 & pids+=($!)
floor_raw_pid=$!
.build/release/plumb-bench proxy-floor --upstream "$mock_port" --listen 18184 --http > "$work/floor-http.log" 2>&1 & pids+=($!)
floor_http_pid=$!
for port in 18183 18184; do
  for _ in $(seq 50); do curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/v1/chat/completions" && break; sleep 0.1; done
done

# --- LiteLLM 1.109.1 (see ../shared/bench/README.md for why it is installed this way)
litellm_port=""
if [ "${PLUMB_BENCH_LITELLM:-1}" = "1" ]; then
  venv="$work/litellm-venv"
  if [ ! -x "$venv/bin/litellm" ]; then
    echo "== installing LiteLLM 1.109.1 into $venv (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$root/../shared/bench/requirements-litellm-1.109.1-deps.txt" >/dev/null 2>&1 || true
    "$venv/bin/pip" install -q --no-deps litellm==1.109.1 >/dev/null 2>&1 || true
  fi
  if [ -x "$venv/bin/litellm" ]; then
    cat > "$work/litellm.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$mock_port/v1", api_key: sk-fake}
general_settings: {master_key: sk-litellm-master}
YAML
    LITELLM_OFFLINE_MODE=true LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY_DISABLED=true \
      "$venv/bin/litellm" --config "$work/litellm.yaml" --host 127.0.0.1 --port 18282 > "$work/litellm.log" 2>&1 & pids+=($!)
    litellm_pid=$!
    for _ in $(seq 120); do curl -sf -o /dev/null -H 'Authorization: Bearer sk-litellm-master' http://127.0.0.1:18282/health/liveliness && { litellm_port=18282; break; }; sleep 0.5; done
    [ -z "$litellm_port" ] && echo "note: LiteLLM did not start (see $work/litellm.log); skipped" >&2
  else
    echo "note: LiteLLM could not be installed; skipped" >&2
  fi
fi

targets=(direct nginx plumb floor-raw floor-http)
[ -n "$litellm_port" ] && targets+=(litellm)
url_of() { case $1 in direct) echo "http://127.0.0.1:$mock_port";; nginx) echo "http://127.0.0.1:18181";;
  plumb) echo "http://127.0.0.1:$plumb_port";; litellm) echo "http://127.0.0.1:$litellm_port";;
  floor-raw) echo "http://127.0.0.1:18183";; floor-http) echo "http://127.0.0.1:18184";; esac; }
pid_of() { case $1 in direct) echo $mock_pid;; nginx) echo $nginx_pid;; plumb) echo $plumb_pid;; litellm) echo $litellm_pid;;
  floor-raw) echo $floor_raw_pid;; floor-http) echo $floor_http_pid;; esac; }
auth_of() { [ "$1" = litellm ] && echo sk-litellm-master || echo sk-bench; }

tree_of() {   # a process and its descendants
  local all=("$1") i=0
  while [ $i -lt ${#all[@]} ]; do for c in $(pgrep -P "${all[$i]}" || true); do all+=("$c"); done; i=$((i + 1)); done
  echo "${all[@]}"
}
tree_rss_kb() {   # VmRSS summed over a process tree
  local sum=0
  for p in $(tree_of "$1"); do sum=$((sum + $(awk '/^VmRSS/{print $2}' /proc/$p/status 2>/dev/null || echo 0))); done
  echo $sum
}
tree_ticks() {   # utime + stime summed over a process tree
  local sum=0
  for p in $(tree_of "$1"); do sum=$((sum + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done
  echo $sum
}
hz=$(getconf CLK_TCK)

results="$work/results.txt"
: > "$results"
for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    url=$(url_of $t); export AUTH=$(auth_of $t) PATH_PREFIX=/v1
    settle
    # Max throughput, with the target's RSS sampled alongside.
    pid=$(pid_of $t); peak=0
    ( while true; do tree_rss_kb "$pid"; sleep 0.25; done ) > "$work/rss-$t.txt" & sampler=$!
    ticks0=$(tree_ticks "$pid")
    out=$(wrk -t1 -c32 -d10s -s tools/bench/lua/chat.lua "$url" 2>&1)
    ticks1=$(tree_ticks "$pid")
    kill $sampler 2>/dev/null; wait $sampler 2>/dev/null || true
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    n=$(awk '/requests in/{print $1}' <<<"$out")
    echo "$round $t cpu_us_per_call $(awk -v d=$((ticks1 - ticks0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')" >> "$results"
    echo "$round $t cpu_share $(awk -v d=$((ticks1 - ticks0)) -v hz="$hz" 'BEGIN {printf "%.0f", d / hz / 10 * 100}')" >> "$results"
    peak=$(sort -n "$work/rss-$t.txt" | tail -1)
    non200=$(sed -nE 's/^non200=([0-9]+)/\1/p' <<<"$out")
    echo "$round $t max_rps $rps" >> "$results"
    echo "$round $t peak_rss_kb $peak" >> "$results"
    echo "$round $t max_non200 ${non200:-0}" >> "$results"
    # Latency at fixed rates (LiteLLM cannot sustain 1,000 req/s: only 40 for it).
    for rate in 1000 40; do
      [ "$t" = litellm ] && [ "$rate" = 1000 ] && continue
      dur=10; [ "$rate" = 40 ] && dur=15
      out=$(RATE=$rate wrk -t1 -c4 -d${dur}s -s tools/bench/lua/paced.lua "$url" 2>&1)
      line=$(grep '^paced:' <<<"$out")
      for k in p50_us p99_us requests; do echo "$round $t ${k}@$rate $(sed -nE "s/.* $k=([0-9]+).*/\1/p" <<<"$line")" >> "$results"; done
    done
    # Time to first byte of a stream, 50 sequential requests.
    body='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream please"}]}'
    for i in $(seq 50); do
      curl -s -N -o /dev/null -w '%{time_starttransfer}\n' -H "Authorization: Bearer $AUTH" -H 'X-Bench-Stream: 1' \
        -H 'Content-Type: application/json' -d "$body" "$url/v1/chat/completions"
    done | sort -n | awk '{a[NR]=$1} END{printf "%d\n", a[int((NR+1)/2)]*1e6}' | { read us; echo "$round $t ttfb_us $us" >> "$results"; }
    # The same on one kept-alive connection (as SDKs' connection pools send them): 51 requests,
    # the first (which connects) left out.
    keep=()
    for i in $(seq 51); do
      [ $i -gt 1 ] && keep+=(--next)
      keep+=(-o /dev/null -w '%{time_starttransfer}\n' -H "Authorization: Bearer $AUTH" -H 'X-Bench-Stream: 1' \
             -H 'Content-Type: application/json' -d "$body" "$url/v1/chat/completions")
    done
    curl -s -N "${keep[@]}" | tail -n +2 \
      | sort -n | awk '{a[NR]=$1} END{printf "%d\n", a[int((NR+1)/2)]*1e6}' | { read us; echo "$round $t ttfb_kept_us $us" >> "$results"; }
    echo "$round $t rss_after_round_kb $(tree_rss_kb "$pid")" >> "$results"
    echo "round $round: $t done" >&2
  done
done

echo
echo "== results (median over $rounds rounds; this machine has 2 cores shared by wrk, the mock and the target)"
python3 - "$results" "${targets[@]}" <<'PY'
import statistics, sys, collections
path, targets = sys.argv[1], sys.argv[2:]
v = collections.defaultdict(list)
for line in open(path):
    r, t, k, x = line.split()
    if x: v[(t, k)].append(float(x))
med = lambda t, k: statistics.median(v[(t, k)]) if v[(t, k)] else None
fmt = lambda x, d=0: "-" if x is None else f"{x:,.{d}f}"
print(f"{'target':10} {'max req/s':>10} {'CPU/call':>9} {'CPU':>5} {'p50@1000':>9} {'p99@1000':>9} {'p50@40':>8} {'p99@40':>8} {'SSE TTFB':>9} {'kept-alive':>10} {'peak RSS':>9}  RSS after each round")
for t in targets:
    series = " ".join(f"{x / 1024:.1f}" for x in v[(t, 'rss_after_round_kb')])
    print(f"{t:10} {fmt(med(t,'max_rps')):>10} {fmt(med(t,'cpu_us_per_call'), 1):>8}µ {fmt(med(t,'cpu_share')):>4}% {fmt(med(t,'p50_us@1000')):>8}µ {fmt(med(t,'p99_us@1000')):>8}µ"
          f" {fmt(med(t,'p50_us@40')):>7}µ {fmt(med(t,'p99_us@40')):>7}µ {fmt(med(t,'ttfb_us')):>8}µ {fmt(med(t,'ttfb_kept_us')):>9}µ {fmt((med(t,'peak_rss_kb') or 0)/1024, 1):>7}MB  {series} MB")
d = lambda t, k: None if med(t, k) is None or med('direct', k) is None else med(t, k) - med('direct', k)
print("\nadded against direct (µs):")
for t in targets[1:]:
    print(f"  {t:8} p50@1000 {fmt(d(t,'p50_us@1000'))}  p99@1000 {fmt(d(t,'p99_us@1000'))}  p50@40 {fmt(d(t,'p50_us@40'))}  p99@40 {fmt(d(t,'p99_us@40'))}  SSE TTFB {fmt(d(t,'ttfb_us'))}  kept-alive {fmt(d(t,'ttfb_kept_us'))}")
p, n, u = med('plumb', 'max_rps'), med('nginx', 'max_rps'), med('direct', 'max_rps')
if u and p:
    print(f"\nthe upstream alone: {u:,.0f} req/s = {u / p:.1f}x plumb's rate, {u / n:.1f}x nginx's (the method wants >= 5x)")
print(f"\nplumb/nginx max throughput: {p / n:.2f}" if p and n else "")
for f in ('floor-raw', 'floor-http'):
    if med(f, 'cpu_us_per_call') and med('plumb', 'cpu_us_per_call'):
        print(f"plumb's CPU per call / {f}'s: {med('plumb', 'cpu_us_per_call') / med(f, 'cpu_us_per_call'):.1f}x")
if med('litellm', 'max_rps'):
    print(f"plumb/litellm max throughput: {p / med('litellm', 'max_rps'):.0f}x")
PY
