#!/usr/bin/env bash
# The whole test suite: set-up (tools/bootstrap.sh), build, Swift tests (unit and end-to-end,
# which spawn the real binary), the Python suites (SDKs, attacks, tools, queries), then a
# bounded fuzzing run (tools/fuzz/run.sh). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bootstrap.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT

swift build --build-tests
PLUMB_BINARY="$PWD/.build/debug/plumb" swift test --skip-build 2>&1 | tee "$log"
# Two runs: Tests/sdk and Tests/query each have their own conftest.py (one pytest process would
# import only one module named conftest).
.venv/bin/python -m pytest -q tools/tests Tests/sdk 2>&1 | tee -a "$log"
.venv/bin/python -m pytest -q Tests/query 2>&1 | tee -a "$log"
# Coverage-guided fuzzing of every parser of untrusted bytes, a bounded run (FUZZ_SECONDS each;
# 0 skips it for a quick local run). A crash fails the suite.
if [ "${FUZZ_SECONDS:-60}" != "0" ]; then tools/fuzz/run.sh; fi

# One closing line over both runners (set -e and pipefail already stopped on any failure).
swift_line=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
swift_run=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$swift_line")
swift_failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$swift_line")
py_passed=$(grep -Eo "[0-9]+ passed in" "$log" | awk '{s += $1} END {print s + 0}')
echo "summary: $((swift_run - swift_failed + ${py_passed:-0})) passed, $swift_failed failed"
