#!/usr/bin/env bash
# Builds Plumb (release) and starts `plumb serve` on ./plumb-data. Extra arguments go to serve.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB_SKIP_VENV=1 source tools/bootstrap.sh
swift build -c release --product plumb
swift build -c release --product plumb-mock    # for `plumb demo`, which runs it beside plumb
exec .build/release/plumb serve --data ./plumb-data "$@"
