#!/usr/bin/env bash
# The whole test suite: set-up (tools/bootstrap.sh), build, Swift tests (unit and end-to-end,
# which spawn the real binary), then the Python tool tests. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bootstrap.sh

swift build --build-tests
PLUMB_BINARY="$PWD/.build/debug/plumb" swift test --skip-build

.venv/bin/python -m pytest -q tools/tests
