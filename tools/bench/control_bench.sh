#!/usr/bin/env bash
# Control benchmark (issue 25): what a budget, a rate limit and a Plumb key check add to a call,
# counted in the process and in Redis on loopback, beside the same call without them. One static
# upstream (tools/bench/static_upstream.sh), one load tool, targets interleaved round by round.
# Prints figures; asserts nothing.
#
#   tools/bench/control_bench.sh [WORKDIR (default /tmp/plumb-control-bench)] [ROUNDS (default 3)]
#
# Targets: direct (the upstream), plain (plumb serve, no control), local (a Plumb key with its own
# budget and limit, plus a [[budgets]] and a [[limits]] over every call: four rules a call), redis
# (the same, counted in Redis: one EVAL round trip a call). Latency: wrk paced at 1,000 req/s
# over 4 connections for 10 s (tools/bench/lua/paced.lua); CPU per call: the target's CPU over
# a 10 s run at its maximum rate (wrk -t1 -c32), divided by its requests.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/plumb-control-bench}
rounds=${2:-3}
upstream_port=${UPSTREAM_PORT:-18180}
redis_port=${REDIS_PORT:-18379}
mkdir -p "$work"
source tools/bootstrap.sh
for tool in wrk nginx curl redis-server; do
  command -v $tool >/dev/null || { echo "installing $tool" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light curl redis-server >/dev/null; }
done
swift build -c release --product plumb >/dev/null
swift build -c release --product plumb-mock >/dev/null

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
}
trap cleanup EXIT
settle() { for _ in $(seq 30); do awk '{exit !($1 < 0.6)}' /proc/loadavg && return 0; sleep 1; done; }
port_of() { sed -nE 's/.*listening on http:\/\/[^:]+:([0-9]+).*/\1/p' "$1" | head -1; }

nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
tools/bench/static_upstream.sh "$work" "$upstream_port" >&2
upstream_pid=$(cat "$work/static/nginx.pid")
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" > "$work/redis.log" 2>&1 & pids+=($!)
redis_pid=$!

start() {   # NAME EXTRA_CONFIG -> starts plumb serve with its own data directory
  local name=$1 extra=$2
  rm -rf "$work/$name"; mkdir -p "$work/$name"
  printf '%s\n[providers.openai]\nbase_url = "http://127.0.0.1:%s"\napi_key_env = "BENCH_OPENAI_KEY"\n' "$extra" "$upstream_port" > "$work/$name/plumb.toml"
  if [ "$name" != plain ]; then
    .build/release/plumb keys create --data "$work/$name/data" --name bench --budget 1000000/month --limit 1000000000rpm,1000000000tpm \
      > "$work/$name/key" 2>/dev/null
  fi
  BENCH_OPENAI_KEY=sk-bench-upstream .build/release/plumb serve --config "$work/$name/plumb.toml" --data "$work/$name/data" \
    --listen 127.0.0.1:0 > "$work/$name/log" 2>&1 & pids+=($!)
  echo $! > "$work/$name/pid"
  for _ in $(seq 100); do [ -n "$(port_of "$work/$name/log")" ] && break; sleep 0.1; done
}
rules='[[budgets]]
name = "everything"
scope = "all"
amount_usd = 1000000
period = "month"

[[limits]]
name = "everyone"
scope = "all"
requests_per_minute = 1000000000'
start plain ""
start local "$rules"
start redis "[control]
redis = \"redis://127.0.0.1:$redis_port\"
$rules"

targets=(direct plain local redis)
url_of() { [ "$1" = direct ] && echo "http://127.0.0.1:$upstream_port" || echo "http://127.0.0.1:$(port_of "$work/$1/log")"; }
pid_of() { [ "$1" = direct ] && echo "$upstream_pid" || cat "$work/$1/pid"; }
auth_of() { [ -f "$work/$1/key" ] && cat "$work/$1/key" || echo sk-bench; }
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
hz=$(getconf CLK_TCK)

results="$work/results.txt"
: > "$results"
for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    url=$(url_of $t); export AUTH=$(auth_of $t) PATH_PREFIX=/v1
    settle
    pid=$(pid_of $t)
    t0=$(ticks "$pid"); r0=$( [ $t = redis ] && ticks $redis_pid || echo 0 )
    out=$(wrk -t1 -c32 -d10s -s tools/bench/lua/chat.lua "$url" 2>&1)
    t1=$(ticks "$pid"); r1=$( [ $t = redis ] && ticks $redis_pid || echo 0 )
    n=$(awk '/requests in/{print $1}' <<<"$out")
    echo "$round $t max_rps $(awk '/Requests\/sec/{print $2}' <<<"$out")" >> "$results"
    echo "$round $t cpu_us_per_call $(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')" >> "$results"
    echo "$round $t redis_cpu_us_per_call $(awk -v d=$((r1 - r0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')" >> "$results"
    echo "$round $t non200 $(sed -nE 's/^non200=([0-9]+)/\1/p' <<<"$out")" >> "$results"
    out=$(RATE=1000 wrk -t1 -c4 -d10s -s tools/bench/lua/paced.lua "$url" 2>&1)
    line=$(grep '^paced:' <<<"$out")
    for k in p50_us p99_us non200; do echo "$round $t ${k}@1000 $(sed -nE "s/.* $k=([0-9]+).*/\1/p" <<<"$line")" >> "$results"; done
    echo "round $round: $t done" >&2
  done
done

echo
echo "== results (median over $rounds rounds; 2 cores shared by wrk, the upstream, Redis and the target)"
python3 - "$results" "${targets[@]}" <<'PY'
import statistics, sys, collections
path, targets = sys.argv[1], sys.argv[2:]
v = collections.defaultdict(list)
for line in open(path):
    parts = line.split()
    if len(parts) == 4 and parts[3]:
        v[(parts[1], parts[2])].append(float(parts[3]))
med = lambda t, k: statistics.median(v[(t, k)]) if v[(t, k)] else None
fmt = lambda x, d=0: "-" if x is None else f"{x:,.{d}f}"
print(f"{'target':8} {'max req/s':>10} {'CPU/call':>9} {'Redis CPU/call':>15} {'p50@1000':>9} {'p99@1000':>9} {'non-200':>8}")
for t in targets:
    print(f"{t:8} {fmt(med(t,'max_rps')):>10} {fmt(med(t,'cpu_us_per_call'),1):>8}µ {fmt(med(t,'redis_cpu_us_per_call'),1):>14}µ"
          f" {fmt(med(t,'p50_us@1000')):>8}µ {fmt(med(t,'p99_us@1000')):>8}µ {fmt((med(t,'non200') or 0) + (med(t,'non200@1000') or 0)):>8}")
print("\nadded by the checks, against plain plumb (µs):")
for t in ("local", "redis"):
    d = lambda k: None if med(t, k) is None or med("plain", k) is None else med(t, k) - med("plain", k)
    print(f"  {t:6} p50@1000 {fmt(d('p50_us@1000'))}  p99@1000 {fmt(d('p99_us@1000'))}  CPU/call {fmt(d('cpu_us_per_call'), 1)}")
PY
