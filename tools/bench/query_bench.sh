#!/usr/bin/env bash
# Query benchmark (issue 4): Plumb vs DuckDB over Parquet and over its own table, the same
# 10M generated spans, one run. Prints figures; asserts nothing.
#
#   tools/bench/query_bench.sh [SPANS (default 10000000)] [WORKDIR (default /tmp/plumb-bench)]
#   GENERATOR=independent: the data from tools/gen_spans_independent.py instead (issue 24: a second
#   generator's shape, random span ids and many distinct users, so the store is not only measured
#   on the data it was tuned with).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10000000}
work=${2:-/tmp/plumb-bench}
mkdir -p "$work"
source tools/bootstrap.sh
swift build -c release --product plumb >/dev/null
swift build -c release --product plumb-bench >/dev/null
py=.venv/bin/python

generator=${GENERATOR:-default}
tag=$n; [ "$generator" = default ] || tag="$generator-$n"
spans="$work/spans-$tag.jsonl"
if [ ! -s "$spans" ]; then
  echo "== generating $n spans ($generator generator)"
  case $generator in
    default) $py tools/gen_spans.py --count "$n" --seed 1 --out "$spans" ;;
    independent) $py tools/gen_spans_independent.py --count "$n" --seed 7 --out "$spans" ;;
    *) echo "GENERATOR must be default or independent" >&2; exit 2 ;;
  esac
fi
data="$work/query-data-$tag"
if [ ! -f "$data/catalog.sqlite" ]; then
  echo "== plumb import"
  .build/release/plumb import --data "$data" "$spans"
fi
if [ ! -s "$work/parquet-$tag/spans.zstd.parquet" ]; then
  echo "== Parquet and DuckDB (tools/bench/parquet_size.py)"
  $py tools/bench/parquet_size.py "$spans" --workdir "$work/parquet-$tag"
fi
echo "== plumb store: $(du -sh "$data/segments" | cut -f1) in $(ls "$data/segments" | wc -l) segments"
$py tools/bench/query_bench.py --plumb-data "$data" --parquet-src "$work/parquet-$tag/spans.zstd.parquet" \
  --workdir "$work/parquet-$tag"
