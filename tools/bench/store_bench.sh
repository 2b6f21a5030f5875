#!/usr/bin/env bash
# Trace-store benchmark (issue 2): the same synthetic spans through Plumb's store and into
# Parquet (zstd, lz4) and DuckDB, in one run. Prints figures; asserts nothing.
#
#   tools/bench/store_bench.sh [SPANS (default 10000000)] [WORKDIR (default /tmp/plumb-bench)]
#
# Method (../shared/bench/README.md): one run, targets one after another on an idle machine
# (waits for the load average to settle before each), medians of repeated runs where cheap.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10000000}
work=${2:-/tmp/plumb-bench}
mkdir -p "$work"
source tools/bootstrap.sh
swift build -c release --product plumb-bench >/dev/null
swift build -c release --product plumb >/dev/null
py=.venv/bin/python

settle() {   # wait (up to 60 s) until the 1-minute load average is under 0.5
  for _ in $(seq 60); do
    awk '{exit !($1 < 0.5)}' /proc/loadavg && return 0
    sleep 1
  done
  echo "note: machine still busy (load $(cut -d' ' -f1 /proc/loadavg)); figures may be noisy" >&2
}

spans="$work/spans-$n.jsonl"
if [ ! -s "$spans" ]; then
  echo "== generating $n spans"
  $py tools/gen_spans.py --count "$n" --seed 1 --out "$spans"
fi
echo "== input: $(du -h "$spans" | cut -f1) of JSON lines"

for mode in "" "--batch"; do
  settle
  rm -rf "$work/data"
  echo "== plumb store ingest ${mode:-(span by span)}"
  # Three runs, each a fresh store (the first parses the JSON lines and caches them as records
  # beside them; loading is never timed): the median is the figure.
  .build/release/plumb-bench ingest "$spans" "$work/data" --chunk 1000000 --runs 3 $mode | tee "$work/plumb${mode}.txt"
done

settle
rm -rf "$work/import-data"
sample="$work/spans-1m-sample.jsonl"
head -n 1000000 "$spans" > "$sample"
echo "== plumb import (JSON parsing included), 1,000,000 spans"
.build/release/plumb import --data "$work/import-data" "$sample" | tee "$work/import.txt"

settle
echo "== Parquet and DuckDB"
$py tools/bench/parquet_size.py "$spans" --workdir "$work/parquet" | tee "$work/parquet.txt"

echo
echo "== summary: bytes per span on disk (columns only, bodies apart)"
plumb=$(grep '^compacted:' "$work/plumb.txt" | sed -E 's/.* ([0-9.]+) bytes\/span.*/\1/')
printf '%-22s %8s\n' "plumb (compacted)" "$plumb"
grep -E 'bytes_per_span=' "$work/parquet.txt" | sed -E 's/^([a-z0-9-]+).*bytes_per_span=([0-9.]+).*/\1 \2/' | while read -r name b; do
  printf '%-22s %8s   plumb/%s = %s\n' "$name" "$b" "$name" "$(awk -v a="$plumb" -v b="$b" 'BEGIN{printf "%.2f", a/b}')"
done
echo "== summary: ingest (append until published, one writer; three runs and their median)"
grep '^runs:' "$work/plumb.txt" "$work/plumb--batch.txt" | sed -E 's/^.*plumb(--batch)?\.txt:/  /'
