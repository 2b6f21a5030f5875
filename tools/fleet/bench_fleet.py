#!/usr/bin/env python3
"""Throughput of the two fleet test servers, each run as its own process on loopback.

    bench_fleet.py otlp  [--batches 60] [--batch 1000] [--count-only]
    bench_fleet.py clickhouse [--rows 1000,10000] [--repeats 5]

otlp: one keep-alive client posts ExportTraceServiceRequests of --batch spans (16 attributes
each, like a Plumb LLM span) as protobuf, then as OTLP/JSON; prints spans/s for each (the
receiver's own decode time dominates: the bodies are built before the clock starts).
clickhouse: a table of 30 columns (String, Int64, Float64, DateTime64(6,'UTC'), Nullable(String),
LowCardinality(String), Map(String,String), Bool); posts RowBinary inserts of each size with an
insert_deduplication_token URL setting; prints the best of --repeats as ms and rows/s.
"""
import argparse
import base64
import http.client
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))


def spawn(args):
    p = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on "):
        p.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return p, int(line.rsplit(":", 1)[1])


def otlp_request(n, seed):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="plumb"))
    ss = rs.scope_spans.add()
    ss.scope.name, ss.scope.version = "plumb", "0.1.0"
    for i in range(n):
        sp = ss.spans.add()
        sp.trace_id = os.urandom(16)
        sp.span_id = os.urandom(8)
        sp.name = "chat gpt-4o-mini"
        sp.kind = 3
        sp.start_time_unix_nano = 1_760_000_000_000_000_000 + (seed * n + i) * 1000
        sp.end_time_unix_nano = sp.start_time_unix_nano + 850_000_000
        for k, v in (("gen_ai.system", "openai"), ("gen_ai.request.model", "gpt-4o-mini"),
                     ("gen_ai.response.model", "gpt-4o-mini-2024-07-18"), ("gen_ai.operation.name", "chat"),
                     ("server.address", "api.openai.com"), ("plumb.user", f"user-{i % 50}"),
                     ("plumb.session", f"s-{i % 300}"), ("plumb.key", "key-7"), ("http.route", "/v1/chat/completions"),
                     ("gen_ai.response.finish_reasons", "stop")):
            sp.attributes.add(key=k, value=AnyValue(string_value=v))
        for k, v in (("gen_ai.usage.input_tokens", 1234 + i), ("gen_ai.usage.output_tokens", 321),
                     ("http.response.status_code", 200), ("plumb.ttft_ms", 210)):
            sp.attributes.add(key=k, value=AnyValue(int_value=v))
        sp.attributes.add(key="plumb.cost_usd", value=AnyValue(double_value=0.000321))
        sp.attributes.add(key="plumb.stream", value=AnyValue(bool_value=True))
        sp.status.code = 1
    return req


def to_otlp_json(req):
    """ExportTraceServiceRequest -> OTLP/JSON bytes (hex ids, integer enums)."""
    from google.protobuf import json_format
    d = json_format.MessageToDict(req, use_integers_for_enums=True)
    for rs in d.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in sp:
                        sp[k] = base64.b64decode(sp[k]).hex()
    return json.dumps(d).encode()


def bench_otlp(args):
    extra = ["--count-only"] if args.count_only else []
    p, port = spawn([os.path.join(HERE, "otlp_receiver.py"), "--port", "0", *extra])
    try:
        reqs = [otlp_request(args.batch, s) for s in range(args.batches)]
        bodies = {"protobuf": [r.SerializeToString() for r in reqs], "json": [to_otlp_json(r) for r in reqs]}
        ctypes = {"protobuf": "application/x-protobuf", "json": "application/json"}
        for enc in ("protobuf", "json"):
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("POST", "/_test/reset", b"")
            c.getresponse().read()
            t = time.perf_counter()
            for b in bodies[enc]:
                c.request("POST", "/v1/traces", b, {"Content-Type": ctypes[enc]})
                r = c.getresponse()
                r.read()
                assert r.status == 200, r.status
            dt = time.perf_counter() - t
            c.request("GET", "/_test/stats")
            st = json.loads(c.getresponse().read())
            assert st["spans"] == args.batch * args.batches, st
            n = args.batch * args.batches
            mb = sum(map(len, bodies[enc])) / len(bodies[enc]) / 1e6
            print(f"otlp {enc:8s} count_only={args.count_only!s:5s} batch={args.batch} ({mb:.2f} MB): "
                  f"{n} spans in {dt:.2f}s = {n / dt:,.0f} spans/s")
    finally:
        p.terminate()
        p.wait(10)


def _vs(b):
    out, n = bytearray(), len(b)
    while True:
        x, n = n & 0x7F, n >> 7
        if n:
            out.append(x | 0x80)
        else:
            out.append(x)
            return bytes(out) + b


COLS = ([f"s{i} String" for i in range(10)] + [f"i{i} Int64" for i in range(10)]
        + [f"f{i} Float64" for i in range(5)]
        + ["ts DateTime64(6, 'UTC')", "n Nullable(String)", "lc LowCardinality(String)",
           "m Map(String, String)", "b Bool"])


def rb_row(k):
    r = b"".join(_vs(f"value-{k}-{i}-{'x' * 20}".encode()) for i in range(10))
    r += struct.pack("<10q", *[k * i for i in range(10)])
    r += struct.pack("<5d", *[k * 0.25] * 5)
    r += struct.pack("<q", 1_760_000_000_000_000 + k)
    r += (b"\x00" + _vs(b"note")) if k % 2 else b"\x01"
    r += _vs(f"model-{k % 7}".encode())
    r += b"\x02" + _vs(b"k1") + _vs(b"v1") + _vs(b"k2") + _vs(str(k).encode())
    r += b"\x01" if k % 3 else b"\x00"
    return r


def bench_clickhouse(args):
    d = tempfile.mkdtemp(prefix="chfront-bench-")
    p, port = spawn([os.path.join(HERE, "clickhouse_front.py"), "--port", "0", "--path", d,
                     "--user", "plumb", "--password", "secret"])
    hdr = {"X-ClickHouse-User": "plumb", "X-ClickHouse-Key": "secret"}
    try:
        c = http.client.HTTPConnection("127.0.0.1", port)

        def post(query, body=b"", **params):
            qs = urlencode({"query": query, **params}) if body else urlencode(params)
            c.request("POST", "/?" + qs, body if body else query.encode(), hdr)
            r = c.getresponse()
            out = r.read()
            if r.status != 200:
                raise SystemExit(f"{r.status}: {out[:300]!r}")
            return r, out

        post("CREATE DATABASE IF NOT EXISTS plumb")
        post(f"CREATE TABLE plumb.bench ({', '.join(COLS)}) ENGINE = MergeTree ORDER BY ts")
        for n in args.rows:
            data = b"".join(rb_row(k) for k in range(n))
            best = None
            for _ in range(args.repeats):
                t = time.perf_counter()
                r, _ = post("INSERT INTO plumb.bench FORMAT RowBinary", data,
                            insert_deduplication_token=str(uuid.uuid4()))
                dt = time.perf_counter() - t
                best = dt if best is None else min(best, dt)
                summary = json.loads(r.getheader("X-ClickHouse-Summary"))
                assert int(summary["written_rows"]) == n, summary
            print(f"clickhouse RowBinary insert {n} rows x 30 cols ({len(data) / 1e6:.2f} MB): "
                  f"best {best * 1000:.1f} ms = {n / best:,.0f} rows/s")
    finally:
        p.terminate()
        p.wait(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="which", required=True)
    o = sub.add_parser("otlp")
    o.add_argument("--batches", type=int, default=60)
    o.add_argument("--batch", type=int, default=1000)
    o.add_argument("--count-only", action="store_true")
    ch = sub.add_parser("clickhouse")
    ch.add_argument("--rows", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000])
    ch.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    (bench_otlp if args.which == "otlp" else bench_clickhouse)(args)


if __name__ == "__main__":
    main()
