#!/usr/bin/env bash
# Regenerates Sources/PlumbExport/OTLP/Generated/ (committed; CI never runs this): the OTLP trace
# messages from opentelemetry-proto, by protoc (PyPI's grpcio-tools carries one) and
# protoc-gen-swift built from swift-protobuf at the version Package.swift pins.
#   tools/gen_otlp.sh PROTO_CHECKOUT   # a checkout of github.com/open-telemetry/opentelemetry-proto
# Generated last from opentelemetry-proto ac2c4b5 with protoc 35.1 and swift-protobuf 1.39.0.
set -euo pipefail
cd "$(dirname "$0")/.."
proto=${1:?usage: tools/gen_otlp.sh PATH_TO_OPENTELEMETRY_PROTO}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q grpcio-tools
git clone -q -b 1.39.0 https://github.com/apple/swift-protobuf "$work/swift-protobuf"
(cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
out=Sources/PlumbExport/OTLP/Generated
rm -f "$out"/*.pb.swift
(cd "$proto" && "$work/venv/bin/python" -m grpc_tools.protoc \
  --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_out="$OLDPWD/$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores -I . \
  opentelemetry/proto/common/v1/common.proto opentelemetry/proto/resource/v1/resource.proto \
  opentelemetry/proto/trace/v1/trace.proto opentelemetry/proto/collector/trace/v1/trace_service.proto)
ls "$out"
