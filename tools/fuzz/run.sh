#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted bytes (tools/fuzz/README.md): builds
# plumb-fuzz with libFuzzer (a debug build: Swift's run-time exclusivity checks stay on) and runs
# each target for FUZZ_SECONDS (default 60) from the committed corpus. New inputs go to a scratch
# folder; a crash prints its input's path and the end of the log, and fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"sql toml json response request upstream segment wal page frame export control cloud"}
swift build --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -DPLUMB_FUZZ --product plumb-fuzz 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
bin=.build-fuzz/debug/plumb-fuzz
[ -x "$bin" ] || { echo "fuzz: build failed" >&2; exit 1; }
work=$(mktemp -d)
for t in $targets; do
  mkdir -p "$work/$t"
  if ! PLUMB_FUZZ_TARGET=$t "$bin" "$work/$t" "tools/fuzz/corpus/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
       -timeout=10 -max_len=65536 -artifact_prefix="$work/crash-$t-" -print_final_stats=1 >"$work/$t.log" 2>&1; then
    echo "fuzz: $t: CRASH (input: $(ls "$work"/crash-"$t"-* 2>/dev/null | head -1))"
    tail -60 "$work/$t.log"
    exit 1
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/$t.log")
  cov=$(grep -Eo 'cov: [0-9]+' "$work/$t.log" | tail -1)
  echo "fuzz: $t: ${execs:-?} executions in ${seconds} s, ${cov:-cov: ?}, $(ls "$work/$t" | wc -l) new inputs, no crash"
done
rm -rf "$work"
