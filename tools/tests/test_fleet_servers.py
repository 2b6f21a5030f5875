"""The fleet test servers themselves: tools/fleet/otlp_receiver.py and tools/fleet/clickhouse_front.py.

The receiver runs in this process (a thread) and once as a program; the ClickHouse front always
runs as a program (chdb binds one engine path per process, and the persistence test restarts it).
Requests are built here independently of the servers: OTLP protobuf with opentelemetry-proto's
classes, OTLP/JSON and RowBinary by hand from their specifications.
"""
import base64
import gzip
import http.client
import importlib.util
import json
import re
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytest.importorskip("opentelemetry.proto")  # tools/requirements-test.txt
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "tools" / "fleet"
RECEIVER = FLEET / "otlp_receiver.py"
FRONT = FLEET / "clickhouse_front.py"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


otlp_receiver = _load("otlp_receiver", RECEIVER)
clickhouse_front = _load("clickhouse_front", FRONT)  # chdb is imported only when an Engine starts


def spawn(args, stderr_path):
    """Starts a server program; returns (Popen, port) once it printed 'listening on'."""
    err = open(stderr_path, "wb")
    p = subprocess.Popen([sys.executable, *map(str, args)], stdout=subprocess.PIPE, stderr=err)
    err.close()
    ready, _, _ = select.select([p.stdout], [], [], 120)
    line = p.stdout.readline().decode() if ready else ""
    if not line.startswith("listening on 127.0.0.1:"):
        p.kill()
        raise AssertionError(f"{args[0]} did not start: {line!r}; stderr: {Path(stderr_path).read_text()[-2000:]}")
    return p, int(line.strip().rsplit(":", 1)[1])


def stop(p, timeout=30):
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout)


def request(port, method, path, body=b"", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


# ============================================================================ OTLP receiver

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")
PARENT_ID = bytes.fromhex("0102030405060708")


def av(**kw):
    return AnyValue(**kw)


def proto_request(n=2):
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=av(string_value="plumb"))
    rs.resource.attributes.add(key="host.cores", value=av(int_value=2))
    ss = rs.scope_spans.add()
    ss.scope.name, ss.scope.version = "plumb.proxy", "0.9.1"
    for i in range(n):
        sp = ss.spans.add()
        sp.trace_id = TRACE_ID
        sp.span_id = (SPAN_ID[:7] + bytes([i]))
        sp.parent_span_id = PARENT_ID
        sp.name = f"chat gpt-4o #{i}"
        sp.kind = 3  # CLIENT
        sp.start_time_unix_nano = 1_760_000_000_123_456_789 + i
        sp.end_time_unix_nano = 1_760_000_001_000_000_000 + i
        sp.status.code = 2
        sp.status.message = "upstream 429"
        sp.attributes.extend([
            KeyValue(key="s", value=av(string_value="héllo\x00")),
            KeyValue(key="b", value=av(bool_value=True)),
            KeyValue(key="i", value=av(int_value=-(2 ** 62))),
            KeyValue(key="d", value=av(double_value=0.125)),
            KeyValue(key="a", value=av(array_value=ArrayValue(values=[av(string_value="x"), av(int_value=7)]))),
            KeyValue(key="kv", value=av(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=av(bool_value=False))]))),
            KeyValue(key="raw", value=av(bytes_value=b"\x00\xff")),
            KeyValue(key="idx", value=av(int_value=i)),
        ])
        ev = sp.events.add()
        ev.name, ev.time_unix_nano = "first_token", 1_760_000_000_500_000_000
        ev.attributes.add(key="ttft_ms", value=av(int_value=210))
    return req


def hand_json(trace_hex="5B8EFFF798038103D269B633813FC60C", **span_extra):
    """OTLP/JSON written by hand: hex ids (upper case here; hex is case-insensitive), integer
    enums, lowerCamelCase keys, int64 as strings or numbers, bytes as base64."""
    span = {
        "traceId": trace_hex,
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "0102030405060708",
        "name": "embeddings",
        "kind": 2,
        "startTimeUnixNano": "1760000000123456789",
        "endTimeUnixNano": 1760000001000000000,
        "attributes": [
            {"key": "s", "value": {"stringValue": "x"}},
            {"key": "i", "value": {"intValue": "9007199254740993"}},  # > 2**53: must stay exact
            {"key": "d", "value": {"doubleValue": 1.5}},
            {"key": "b", "value": {"boolValue": False}},
            {"key": "a", "value": {"arrayValue": {"values": [{"intValue": 1}, {"stringValue": "two"}]}}},
            {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "n", "value": {"doubleValue": 2.5}}]}}},
            {"key": "raw", "value": {"bytesValue": base64.b64encode(b"\x01\x02").decode()}},
        ],
        "status": {"code": 1},
        "links": [{"traceId": "00000000000000000000000000000abc", "spanId": "00000000000000ff"}],
        "someFutureField": {"x": 1},  # unknown: must be ignored
    }
    span.update(span_extra)
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "sdk"}}]},
        "scopeSpans": [{"scope": {"name": "json.scope", "version": "2"}, "spans": [span]}],
    }]}


@pytest.fixture(scope="module")
def receiver():
    r = otlp_receiver.OTLPReceiver(port=0).start()
    yield r
    r.stop()


@pytest.fixture
def rcv(receiver):
    receiver.reset()
    return receiver


def post_traces(r, body, ctype="application/x-protobuf", gz=False):
    headers = {"Content-Type": ctype}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return request(r.port, "POST", "/v1/traces", body, headers)


def test_receiver_decodes_a_protobuf_export(rcv):
    status, headers, body = post_traces(rcv, proto_request(2).SerializeToString())
    assert status == 200
    assert headers["content-type"] == "application/x-protobuf"
    resp = ExportTraceServiceResponse()
    resp.ParseFromString(body)
    assert not resp.HasField("partial_success")
    spans = rcv.spans()
    assert len(spans) == 2
    s = spans[1]
    assert s["trace_id"] == TRACE_ID.hex() and s["span_id"] == "eee19b7ec3c1b101"
    assert s["parent_span_id"] == "0102030405060708"
    assert s["name"] == "chat gpt-4o #1" and s["kind"] == 3
    assert s["start_time_unix_nano"] == 1_760_000_000_123_456_790
    assert s["end_time_unix_nano"] == 1_760_000_001_000_000_001
    assert (s["status_code"], s["status_message"]) == (2, "upstream 429")
    assert s["attributes"] == {"s": "héllo\x00", "b": True, "i": -(2 ** 62), "d": 0.125, "a": ["x", 7],
                               "kv": {"k": False}, "raw": b"\x00\xff", "idx": 1}
    assert s["resource"] == {"service.name": "plumb", "host.cores": 2}
    assert (s["scope_name"], s["scope_version"]) == ("plumb.proxy", "0.9.1")
    assert s["events"] == [{"name": "first_token", "time_unix_nano": 1_760_000_000_500_000_000,
                            "attributes": {"ttft_ms": 210}}]
    assert (s["encoding"], s["gzip"], s["request"]) == ("protobuf", False, 1)
    st = rcv.stats()
    assert (st["requests"], st["spans"], st["by_status"], st["by_encoding"]) == (1, 2, {"200": 1}, {"protobuf": 1})


def test_receiver_decodes_a_hand_written_json_export(rcv):
    doc = hand_json()
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["trace_id"] = "ffff"  # snake_case: unknown key
    status, headers, body = post_traces(rcv, json.dumps(doc).encode(), "application/json")
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {}  # an empty ExportTraceServiceResponse
    [s] = rcv.spans()
    assert s["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert (s["span_id"], s["parent_span_id"]) == ("eee19b7ec3c1b174", "0102030405060708")
    assert (s["name"], s["kind"], s["status_code"]) == ("embeddings", 2, 1)
    assert s["start_time_unix_nano"] == 1760000000123456789 and s["end_time_unix_nano"] == 1760000001000000000
    assert s["attributes"] == {"s": "x", "i": 9007199254740993, "d": 1.5, "b": False, "a": [1, "two"],
                               "kv": {"n": 2.5}, "raw": b"\x01\x02"}
    assert s["links"][0]["trace_id"] == "00000000000000000000000000000abc"
    assert s["links"][0]["span_id"] == "00000000000000ff"
    assert s["resource"] == {"service.name": "sdk"}
    assert (s["scope_name"], s["scope_version"], s["encoding"]) == ("json.scope", "2", "json")
    assert rcv.stats()["ignored_json_keys"] == {"trace_id": 1}


def test_receiver_gunzips_both_encodings(rcv):
    assert post_traces(rcv, proto_request(3).SerializeToString(), gz=True)[0] == 200
    assert post_traces(rcv, json.dumps(hand_json()).encode(), "application/json", gz=True)[0] == 200
    spans = rcv.spans()
    assert [(s["encoding"], s["gzip"]) for s in spans] == [("protobuf", True)] * 3 + [("json", True)]
    assert spans[0]["attributes"]["raw"] == b"\x00\xff"
    assert rcv.stats()["gzip_requests"] == 2
    status, _, body = request(rcv.port, "POST", "/v1/traces", b"\x1f\x8b\x08\x00garbage",
                              {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})
    assert status == 400
    assert "gzip" in status_pb2.Status.FromString(body).message


def bad_request(rcv, body, ctype):
    status, headers, out = post_traces(rcv, body, ctype)
    assert status == 400, out
    assert headers["content-type"] == ctype
    st = status_pb2.Status()
    if ctype == "application/json":
        from google.protobuf import json_format
        json_format.Parse(out, st)
    else:
        st.ParseFromString(out)
    br = error_details_pb2.BadRequest()
    assert st.details and st.details[0].Unpack(br)
    return st.message


def test_receiver_rejects_what_otlp_forbids(rcv):
    status, _, _ = post_traces(rcv, b"{}", "text/plain")
    assert status == 415
    assert "invalid protobuf" in bad_request(rcv, b"\xff\xff\xff\xff", "application/x-protobuf")
    assert "enum must be an integer" in bad_request(
        rcv, json.dumps(hand_json(kind="SPAN_KIND_SERVER")).encode(), "application/json")
    assert "not a hex string" in bad_request(rcv, json.dumps(hand_json("zz" * 16)).encode(), "application/json")
    # base64 where hex belongs: "W47/95gDgQPSabYzgT/GDA==" is the standard proto3 mapping, not OTLP's
    assert "traceId" in bad_request(rcv, json.dumps(hand_json(base64.b64encode(TRACE_ID).decode())).encode(),
                                    "application/json")
    short = proto_request(1)
    short.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\x01" * 8
    assert "expected 16/8/8" in bad_request(rcv, short.SerializeToString(), "application/x-protobuf")
    assert rcv.spans() == []
    assert rcv.stats()["by_status"] == {"400": 5}


def test_receiver_fault_modes(rcv):
    body = proto_request(1).SerializeToString()
    status, _, out = request(rcv.port, "POST", "/_test/mode", json.dumps({"status": 429, "retry_after": "2", "count": 2}))
    assert status == 200, out
    for _ in range(2):
        status, headers, out = post_traces(rcv, body)
        assert (status, headers.get("retry-after")) == (429, "2")
        st = status_pb2.Status.FromString(out)
        ri = error_details_pb2.RetryInfo()
        assert st.code == 8 and st.details[0].Unpack(ri) and ri.retry_delay.seconds == 2
    assert post_traces(rcv, body)[0] == 200  # the count ran out

    request(rcv.port, "POST", "/_test/mode", json.dumps({"status": 400, "count": 1}))
    status, headers, out = post_traces(rcv, json.dumps(hand_json()).encode(), "application/json")
    assert status == 400 and "retry-after" not in headers
    doc = json.loads(out)
    assert "400" in doc["message"] and doc["details"][0]["@type"].endswith("google.rpc.BadRequest")
    assert doc["details"][0]["fieldViolations"][0]["description"] == doc["message"]

    request(rcv.port, "POST", "/_test/mode", json.dumps({"status": 503}))  # no count: until cleared
    assert [post_traces(rcv, body)[0] for _ in range(3)] == [503] * 3
    request(rcv.port, "POST", "/_test/mode", json.dumps({"status": None, "delay_ms": 300}))
    t = time.monotonic()
    assert post_traces(rcv, body)[0] == 200
    assert time.monotonic() - t >= 0.3
    request(rcv.port, "POST", "/_test/mode", json.dumps({"delay_ms": 0, "partial_rejected": 1}))
    status, _, out = post_traces(rcv, body)
    resp = ExportTraceServiceResponse.FromString(out)
    assert status == 200 and resp.partial_success.rejected_spans == 1
    st = rcv.stats()
    assert st["by_status"] == {"429": 2, "200": 3, "400": 1, "503": 3}
    assert st["spans"] == 3 and len(rcv.spans()) == 3  # rejected requests keep nothing
    status, _, out = request(rcv.port, "POST", "/_test/mode", json.dumps({"stauts": 500}))
    assert status == 400 and "unknown mode keys" in json.loads(out)["error"]


def test_receiver_test_endpoints_over_http(rcv):
    post_traces(rcv, proto_request(3).SerializeToString())
    status, _, out = request(rcv.port, "GET", "/_test/spans?offset=1&limit=1")
    [s] = json.loads(out)
    assert status == 200 and s["name"] == "chat gpt-4o #1"
    assert s["attributes"]["raw"] == base64.b64encode(b"\x00\xff").decode()  # bytes travel as base64
    stats = json.loads(request(rcv.port, "GET", "/_test/stats")[2])
    assert (stats["requests"], stats["spans"]) == (1, 3)
    assert request(rcv.port, "POST", "/_test/reset")[0] == 200
    assert json.loads(request(rcv.port, "GET", "/_test/spans")[2]) == []
    assert json.loads(request(rcv.port, "GET", "/_test/stats")[2])["requests"] == 0
    assert request(rcv.port, "GET", "/v1/traces")[0] == 405


def test_receiver_as_a_program(tmp_path):
    out = tmp_path / "spans.jsonl"
    p, port = spawn([RECEIVER, "--port", "0", "--out", out], tmp_path / "err")
    try:
        status, _, _ = request(port, "POST", "/v1/traces", proto_request(2).SerializeToString(),
                               {"Content-Type": "application/x-protobuf"})
        assert status == 200
    finally:
        assert stop(p) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["name"] for x in lines] == ["chat gpt-4o #0", "chat gpt-4o #1"]
    assert lines[0]["trace_id"] == TRACE_ID.hex()

    p, port = spawn([RECEIVER, "--port", "0", "--count-only"], tmp_path / "err2")
    try:
        for _ in range(3):
            request(port, "POST", "/v1/traces", proto_request(5).SerializeToString(),
                    {"Content-Type": "application/x-protobuf"})
        stats = json.loads(request(port, "GET", "/_test/stats")[2])
        assert (stats["spans"], stats["count_only"]) == (15, True)
        assert json.loads(request(port, "GET", "/_test/spans")[2]) == []
    finally:
        assert stop(p) == 0


# ============================================================================ ClickHouse front

USER, PASSWORD = "plumb", "s3cret'\\"
AUTH = {"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD}
ERROR_RE = re.compile(r"^Code: (\d+)\. DB::Exception: (.*)\. \(([A-Z_]+)\) \(version 26\.[0-9.]+ \(official build\)\)\n$", re.S)


class Front:
    def __init__(self, path, tmp):
        self.path, self.tmp = path, tmp
        self.proc = None
        self.port = None

    def start(self):
        self.proc, self.port = spawn([FRONT, "--port", "0", "--path", self.path, "--user", USER,
                                      "--password", PASSWORD], self.tmp / "front.err")
        return self

    def stop(self):
        rc = stop(self.proc)
        self.proc = None
        return rc

    def ch(self, query=None, body=b"", method="POST", headers=None, auth=True, **params):
        """One HTTP request; the query goes in the URL when given, the body as is."""
        if query is not None:
            params["query"] = query
        h = dict(AUTH) if auth else {}
        h.update(headers or {})
        path = "/?" + urlencode(params) if params else "/"
        return request(self.port, method, path, body, h)

    def ok(self, *a, **kw):
        status, headers, body = self.ch(*a, **kw)
        assert status == 200, body
        return headers, body


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chfront")
    f = Front(tmp / "data", tmp).start()
    f.ok(body=b"CREATE DATABASE IF NOT EXISTS plumb")
    yield f
    if f.proc:
        assert f.stop() == 0


def check_error(status, headers, body, want_status, want_code, want_name):
    text = body.decode()
    m = ERROR_RE.match(text)
    assert m, text
    assert (status, int(m.group(1)), m.group(3)) == (want_status, want_code, want_name), text
    assert headers["x-clickhouse-exception-code"] == str(want_code)
    assert headers["content-type"].startswith("text/plain")
    return m.group(2)


def test_front_authentication(front):
    for kw in ({"headers": {"X-ClickHouse-User": USER, "X-ClickHouse-Key": "wrong"}, "auth": False},
               {"auth": False, "user": USER, "password": "nope"},
               {"auth": False, "headers": {"Authorization": "Basic " + base64.b64encode(b"plumb:x").decode()}}):
        msg = check_error(*front.ch(body=b"SELECT 1", **kw), 403, 516, "AUTHENTICATION_FAILED")
        assert msg == "plumb: Authentication failed: password is incorrect, or there is no user with such name"
    # nothing given means the user `default` with an empty password, which is not --user here
    msg = check_error(*front.ch(body=b"SELECT 1", auth=False), 403, 516, "AUTHENTICATION_FAILED")
    assert msg.startswith("default: Authentication failed")
    # two ways at once is refused, as ClickHouse does
    msg = check_error(*front.ch(body=b"SELECT 1", user=USER, password=PASSWORD), 403, 516, "AUTHENTICATION_FAILED")
    assert "simultaneously" in msg
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert front.ok(body=b"SELECT 41 + 1", auth=False, headers={"Authorization": basic})[1] == b"42\n"
    assert front.ok(body=b"SELECT 42", auth=False, user=USER, password=PASSWORD)[1] == b"42\n"
    assert front.ok(body=b"SELECT 42")[1] == b"42\n"


def test_front_error_format(front):
    status, headers, body = front.ch(body=b"SELEC 1")
    assert check_error(status, headers, body, 400, 62, "SYNTAX_ERROR").startswith("Syntax error")
    status, headers, body = front.ch(body=b"SELECT * FROM plumb.no_such_table")
    assert "plumb.no_such_table" in check_error(status, headers, body, 404, 60, "UNKNOWN_TABLE")
    check_error(*front.ch(body=b"SELECT 1", max_threads="many"), 400, 27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED")
    check_error(*front.ch(body=b"SELECT 1", no_such_setting="1"), 404, 115, "UNKNOWN_SETTING")
    check_error(*front.ch(body=b"SELECT 1; SELECT 2"), 400, 62, "SYNTAX_ERROR")
    check_error(*front.ch(query="CREATE TABLE plumb.ro (a Int8) ENGINE = Memory", method="GET"), 500, 164, "READONLY")
    status, _, body = front.ch(body=b"SELECT 1", database="no_such_db")
    assert (status, body.startswith(b"Code: 81.")) == (404, True)


# -- RowBinary, written from ClickHouse's RowBinary specification

def uvarint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def rb_string(b):
    return uvarint(len(b)) + b


def rb_row(r):
    out = struct.pack("<q", r["id"]) + struct.pack("<d", r["f"]) + (b"\x01" if r["ok"] else b"\x00")
    out += rb_string(r["s"])
    out += b"\x01" if r["n"] is None else b"\x00" + rb_string(r["n"])  # Nullable: 1 = NULL
    out += rb_string(r["lc"])  # LowCardinality(String) is a plain String in RowBinary
    out += uvarint(len(r["m"])) + b"".join(rb_string(k) + rb_string(v) for k, v in r["m"])
    out += struct.pack("<q", r["ts_us"])  # DateTime64(6): Int64 ticks of 1 us, little-endian
    return out


ALL_TYPES = ("id Int64, f Float64, ok Bool, s String, n Nullable(String), lc LowCardinality(String), "
             "m Map(String, String), ts DateTime64(6, 'UTC')")
ROWS = [
    {"id": -(2 ** 63), "f": -0.0, "ok": True, "s": b"nul\x00ff\xff end", "n": None, "lc": b"gpt-4o",
     "m": [(b"k", b"v"), (b"\x00key", b"\xff\xfe")], "ts_us": 1_760_000_000_123_456},
    {"id": 2 ** 63 - 1, "f": 1.5e300, "ok": False, "s": b"", "n": b"", "lc": b"claude", "m": [],
     "ts_us": 0},
    {"id": 7, "f": 3.25, "ok": True, "s": "héllo ✓".encode(), "n": b"\x00\xff", "lc": b"gpt-4o",
     "m": [(b"a", b"1")], "ts_us": 4_102_444_800_000_001},
]


def test_front_rowbinary_round_trip_of_every_type(front):
    front.ok(body=f"CREATE TABLE plumb.alltypes ({ALL_TYPES}) ENGINE = MergeTree ORDER BY id".encode())
    data = b"".join(rb_row(r) for r in ROWS)
    headers, body = front.ok("INSERT INTO plumb.alltypes FORMAT RowBinary", data)
    assert body == b""
    summary = json.loads(headers["x-clickhouse-summary"])
    assert (summary["written_rows"], summary["read_bytes"]) == ("3", str(len(data)))
    assert headers["x-clickhouse-format"]
    # The engine's own RowBinary of the same rows is byte for byte what was sent.
    _, rb_out = front.ok(body=b"SELECT * FROM plumb.alltypes ORDER BY id FORMAT RowBinary")
    assert rb_out == b"".join(rb_row(r) for r in sorted(ROWS, key=lambda r: r["id"]))
    headers, out = front.ok(body=b"SELECT id, hex(s) AS s, n IS NULL AS null, hex(assumeNotNull(n)) AS nh, lc, "
                                 b"mapKeys(m) AS k, toString(ts) AS ts, ok, f FROM plumb.alltypes ORDER BY id",
                            default_format="JSONEachRow", output_format_json_quote_64bit_integers="1")
    assert headers["x-clickhouse-format"] == "JSONEachRow" and headers["content-type"].startswith("application/json")
    first = json.loads(out.splitlines()[0])
    assert first == {"id": str(-(2 ** 63)), "s": b"nul\x00ff\xff end".hex().upper(), "null": True, "nh": "",
                     "lc": "gpt-4o", "k": ["k", "\x00key"], "ts": "2025-10-09 08:53:20.123456",
                     "ok": True, "f": -0}
    # Native, the other binary format, goes in as bytes too: copy the table through it.
    _, native = front.ok(body=b"SELECT * FROM plumb.alltypes ORDER BY id FORMAT Native")
    front.ok(body=f"CREATE TABLE plumb.alltypes2 ({ALL_TYPES}) ENGINE = MergeTree ORDER BY id".encode())
    front.ok("INSERT INTO plumb.alltypes2 FORMAT Native", native)
    _, out2 = front.ok(body=b"SELECT * FROM plumb.alltypes2 ORDER BY id FORMAT RowBinary")
    assert out2 == rb_out
    # A truncated row is the engine's parse error, not a silent partial insert.
    status, headers, body = front.ch("INSERT INTO plumb.alltypes FORMAT RowBinary", data[:-3])
    assert status == 500 and headers["x-clickhouse-exception-code"] == "33", body
    assert front.ok(body=b"SELECT count() FROM plumb.alltypes")[1] == b"3\n"


def test_front_query_parameters(front):
    nasty = "it's \\ a \t'); DROP TABLE plumb.alltypes; --"
    # URL parameter values are in ClickHouse's escaped format: a backslash and a tab are escaped.
    escaped = nasty.replace("\\", "\\\\").replace("\t", "\\t")
    headers, out = front.ok(
        body=b"SELECT {s:String} AS s, {i:Int64} AS i, {f:Float64} AS f, {t:DateTime64(6, 'UTC')} AS t, "
             b"{n:Nullable(String)} AS n FORMAT JSONEachRow",
        param_s=escaped, param_i="-9223372036854775808", param_f="0.1", param_t="2026-01-02 03:04:05.678901",
        param_n="\\N", output_format_json_quote_64bit_integers="0")
    assert json.loads(out) == {"s": nasty, "i": -9223372036854775808, "f": 0.1,
                               "t": "2026-01-02 03:04:05.678901", "n": None}
    assert headers["content-type"].startswith("application/json")
    # a parameter in a GET query, and one that is missing
    assert front.ok(query="SELECT {x:UInt8} + 1", method="GET", param_x="41")[1] == b"42\n"
    check_error(*front.ch(body=b"SELECT {x:UInt8}"), 500, 456, "UNKNOWN_QUERY_PARAMETER")


def test_front_gzip_request_bodies(front):
    front.ok(body=b"CREATE TABLE plumb.gz (id Int64, s String) ENGINE = MergeTree ORDER BY id")
    data = b"".join(struct.pack("<q", i) + rb_string(b"row %d \x00\xff" % i) for i in range(1000))
    headers, _ = front.ok("INSERT INTO plumb.gz FORMAT RowBinary", gzip.compress(data),
                          headers={"Content-Encoding": "gzip"})
    assert json.loads(headers["x-clickhouse-summary"])["written_rows"] == "1000"
    _, out = front.ok(body=gzip.compress(b"SELECT count(), sum(id), countIf(s LIKE '%\\xFF') FROM plumb.gz"),
                      headers={"Content-Encoding": "gzip"})
    assert out == b"1000\t499500\t1000\n"
    check_error(*front.ch(body=b"\x1f\x8b\x08\x00broken", headers={"Content-Encoding": "gzip"}),
                500, 354, "ZLIB_INFLATE_FAILED")


def test_front_settings_database_and_formats(front):
    front.ok(body=b"CREATE TABLE plumb.dedup (id Int64) ENGINE = MergeTree ORDER BY id "
                  b"SETTINGS non_replicated_deduplication_window = 100")
    rows = b"".join(struct.pack("<q", i) for i in range(5))
    for token in ("batch-1", "batch-1", "batch-2"):
        front.ok("INSERT INTO dedup FORMAT RowBinary", rows, database="plumb", insert_deduplication_token=token)
    # the retried batch-1 was dropped; batch-2 has the same rows but its own token
    assert front.ok(body=b"SELECT count() FROM dedup", headers={"X-ClickHouse-Database": "plumb"})[1] == b"10\n"
    # a URL setting lasts one request
    assert front.ok(body=b"SELECT getSetting('max_block_size')", max_block_size="1234")[1] == b"1234\n"
    assert front.ok(body=b"SELECT getSetting('max_block_size')")[1] != b"1234\n"
    headers, out = front.ok(body=b"SELECT 1 AS x", default_format="JSONCompact")
    assert (headers["x-clickhouse-format"], json.loads(out)["data"]) == ("JSONCompact", [[1]])
    headers, out = front.ok(body=b"SELECT 1 AS x, 'a' AS y", headers={"X-ClickHouse-Format": "RowBinaryWithNamesAndTypes"})
    assert out == b"\x02\x01x\x01y\x05UInt8\x06String\x01\x01a"
    assert headers["content-type"] == "application/octet-stream"
    headers, out = front.ok(body=b"SELECT 1 AS x FORMAT JSON", default_format="CSV")  # the clause wins
    assert headers["x-clickhouse-format"] == "JSON" and json.loads(out)["rows"] == 1
    headers, out = front.ok(body=b"INSERT INTO plumb.dedup VALUES (100), (101)")  # inline VALUES
    assert json.loads(headers["x-clickhouse-summary"])["written_rows"] == "2"
    headers, out = front.ok(query="INSERT INTO plumb.dedup FORMAT JSONEachRow", body=b'{"id": 102}\n{"id": 103}')
    assert front.ok(body=b"SELECT count() FROM plumb.dedup WHERE id >= 100", method="POST")[1] == b"4\n"
    assert request(front.port, "GET", "/ping")[2] == b"Ok.\n"


def test_front_keeps_its_data_across_a_restart(tmp_path):
    f = Front(tmp_path / "data", tmp_path).start()
    try:
        f.ok(body=f"CREATE TABLE default.kept ({ALL_TYPES}) ENGINE = MergeTree ORDER BY id".encode())
        f.ok("INSERT INTO kept FORMAT RowBinary", b"".join(rb_row(r) for r in ROWS))
        before = f.ok(body=b"SELECT * FROM kept ORDER BY id FORMAT RowBinary")[1]
    finally:
        assert f.stop() == 0  # SIGTERM is a clean stop
    f.start()
    try:
        assert f.ok(body=b"SELECT * FROM kept ORDER BY id FORMAT RowBinary")[1] == before
        assert f.ok(body=b"SELECT count() FROM kept")[1] == b"3\n"
    finally:
        assert f.stop() == 0


def test_front_finds_where_inline_insert_data_starts():
    plan = clickhouse_front.plan_query
    p = plan(b"INSERT INTO plumb.spans (a, `format`) FORMAT RowBinary\n\x00\x01\n")
    assert (p.insert_head, p.insert_format, p.data_start) == (b"INSERT INTO plumb.spans (a, `format`) ", "RowBinary", 55)
    p = plan(b"INSERT INTO t FORMAT CSV  \r\n1,2")  # spaces, then one CRLF, are not data
    assert (p.insert_format, b"INSERT INTO t FORMAT CSV  \r\n1,2"[p.data_start:]) == ("CSV", b"1,2")
    p = plan(b"insert into t values (1, 'FORMAT x')")
    assert (p.insert_head, p.insert_format) == (b"insert into t ", "Values")
    assert plan(b"INSERT INTO t SELECT * FROM s FORMAT Null").insert_head is None
    assert plan(b"SELECT 'FORMAT CSV', format FROM t -- FORMAT TSV\nFORMAT JSONEachRow SETTINGS a=1").output_format == "JSONEachRow"
    assert plan(b"SELECT format FROM t").output_format is None
    with pytest.raises(clickhouse_front.CHError):
        plan(b"INSERT INTO t FORMAT CSV;1,2")
