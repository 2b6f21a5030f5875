#!/usr/bin/env bash
# Digest benchmark (issue 6): time to build a daily and a weekly digest (all formats' source: the
# JSON digest) with the release `plumb digest` on 10,000,000 spans over 30 days, median of RUNS
# runs after a warm-up, each a fresh process. Uses the data directory of tools/bench/dash_bench.sh
# (generated and imported there if missing). Prints figures; asserts nothing.
#
#   tools/bench/digest_bench.sh [WORKDIR (default /tmp/plumb-bench)]   RUNS=5
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/plumb-bench}
runs=${RUNS:-5}
data="$work/dash-data"
PLUMB_SKIP_VENV=1 source tools/bootstrap.sh
swift build -c release --product plumb >/dev/null
if [ ! -d "$data" ]; then
  mkdir -p "$work"
  python3 tools/gen_spans.py --count 10000000 --seed 1 --start "$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%S)" --days 30 \
    --bodies 0 --out "$work/dash-spans.jsonl"
  .build/release/plumb import --data "$data" "$work/dash-spans.jsonl" | tail -1
fi
day=$(date -u -d '10 days ago' +%Y-%m-%d)
echo "== $(.build/release/plumb query --data "$data" --format csv 'SELECT count(*) AS spans FROM spans' | tail -1) spans; digest of $day and of its week"
for period in day week; do
  times=()
  .build/release/plumb digest --data "$data" --period $period --date "$day" --format json > "$work/digest-$period.json"   # warm-up
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    .build/release/plumb digest --data "$data" --period $period --date "$day" --format json > /dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "period=$period median_ms=${sorted[$((runs / 2))]} min_ms=${sorted[0]} max_ms=${sorted[$((runs - 1))]} runs=$runs" \
       "requests=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['requests']['total'])" "$work/digest-$period.json")"
done
