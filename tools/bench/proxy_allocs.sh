#!/usr/bin/env bash
# Heap allocations per proxied call (issue 24): a count that does not drift with the machine's
# load, unlike CPU time, which varies by about 15% between identical runs on these VMs. Starts
# the static upstream and `plumb serve` (release, bodies stored), sends CALLS chat completions at
# 2,000 req/s over 8 connections, counts glibc malloc calls in Plumb's process with a perf
# uprobe and prints mallocs per call and the top sites, each charged to the innermost Plumb
# function on its stack (or the first NIO one when no Plumb function is there). Asserts nothing.
#
#   tools/bench/proxy_allocs.sh [SECONDS (default 4)] [WORKDIR (default /tmp/plumb-allocs)]
#
# Needs perf and root (uprobes). 2026-12-06: 88 mallocs a call, 72 after ecda629 and 56a6bdd.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-4}
work=${2:-/tmp/plumb-allocs}
upstream_port=${UPSTREAM_PORT:-18185}
mkdir -p "$work"
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)" >&2; exit 2; }
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
swift build -c release --product plumb >/dev/null
libc=$(ldd .build/release/plumb | awk '/libc\.so\.6/{print $3}')
perf probe -q -x "$libc" malloc 2>/dev/null || true     # an existing probe is fine

source tools/bench/plumb_on_static.sh
start_plumb_on_static "$work" "$upstream_port"
url=$plumb_url
export AUTH=sk-bench PATH_PREFIX=/v1
wrk -t1 -c8 -d2s -s tools/bench/lua/chat.lua "$url" >/dev/null   # warm: pools, caches, first segments

perf record -q -e probe_libc:malloc --call-graph=fp -p "$plumb_pid" -o "$work/malloc.data" -- sleep $((seconds + 1)) 2>/dev/null &
recorder=$!
sleep 0.3
out=$(RATE=2000 wrk -t1 -c8 -d${seconds}s -s tools/bench/lua/paced.lua "$url")
wait $recorder || true
calls=$(awk '/requests in/{print $1}' <<<"$out")
perf script -i "$work/malloc.data" -F ip,sym 2>/dev/null > "$work/malloc.txt"
python3 - "$work/malloc.txt" "$calls" <<'PY'
import collections, re, subprocess, sys
path, calls = sys.argv[1], int(sys.argv[2])
stacks, cur = [], []
for line in open(path):
    if not line.strip():
        if cur: stacks.append(cur); cur = []
        continue
    parts = line.split(None, 1)
    cur.append(parts[1].strip() if len(parts) > 1 else "?")
if cur: stacks.append(cur)
plumb = re.compile(r"Plumb(Proxy|Core|Store|Export)")
sites = collections.Counter()
for st in stacks:
    who = next((f for f in st[1:] if plumb.search(f[:40])), None)
    if who is None:
        who = next((f for f in st[1:] if not f.startswith(("swift_", "_swift", "swift::", "malloc", "[unknown]"))), "?")
    sites[who] += 1
print(f"{calls} calls, {len(stacks)} mallocs in Plumb's process: {len(stacks) / max(calls, 1):.1f} a call "
      "(the store's threads included)")
top = sites.most_common(15)
names = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(k for k, _ in top),
                       capture_output=True, text=True).stdout.split("\n")
for (k, n), name in zip(top, names):
    print(f"  {n / max(calls, 1):5.1f}  {name[:120]}")
PY
