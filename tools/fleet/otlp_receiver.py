#!/usr/bin/env python3
"""A standalone OTLP/HTTP trace receiver for tests and benchmarks.

    otlp_receiver.py --port N [--host 127.0.0.1] [--out spans.jsonl] [--count-only]

Prints `listening on HOST:PORT` once it accepts connections (port 0 picks a free one); SIGTERM or
SIGINT stops it cleanly. Importable too: `OTLPReceiver(port=0).start()` runs it in a thread.

What it speaks (OTLP specification, docs/specification.md of opentelemetry-proto):
- POST /v1/traces with `Content-Type: application/x-protobuf` or `application/json`, optionally
  `Content-Encoding: gzip`. Bodies are decoded with the opentelemetry-proto package
  (ExportTraceServiceRequest); JSON follows the OTLP "JSON Protobuf Encoding": traceId/spanId/
  parentSpanId (and a link's traceId/spanId) are hex strings, enums are integers only (an enum
  name string is rejected), keys are lowerCamelCase and unknown keys are ignored (so an original
  snake_case key such as `trace_id` is ignored too, as the spec says; the stats count them under
  `ignored_json_keys` so a test can insist on none), int64 may be a string or a number.
- 200 with an ExportTraceServiceResponse in the request's encoding; 415 for another content type;
  400 with a google.rpc.Status (BadRequest detail) in the request's encoding for a body that does
  not decode; 413 past 20 MiB (after decompression).

Test endpoints:
- GET  /_test/spans[?offset=N&limit=M&trace_id=HEX]  every kept span, flattened (JSON list)
- GET  /_test/stats   {"requests", "spans", "by_status", "by_encoding", "gzip_requests", ...}
- POST /_test/reset   forget spans and counters, clear the fault mode
- POST /_test/mode    fault injection, JSON:
      {"status": 429, "retry_after": "2", "count": 3}  the next 3 export requests get a 429 with
          `Retry-After: 2` and a google.rpc.Status body (RetryInfo detail); without "count" every
          export request until {"status": null}. A 400 carries a BadRequest detail naming the problem.
          Optional "message" replaces the Status message.
      {"delay_ms": 250}  wait that long before answering each export request (0 turns it off)
      {"partial_rejected": 5, "partial_message": "..."}  answer 200 with partial_success set
          (the spans are still kept)
  A rejected request's spans are not kept.

A flattened span: trace_id/span_id/parent_span_id (lower-case hex, "" when absent), trace_state,
flags, name, kind (int), start_time_unix_nano/end_time_unix_nano (int), status_code (int),
status_message, attributes (plain dict: string/bool/int/float/list/dict/bytes),
dropped_attributes_count, events, links, resource (dict of the resource's attributes),
resource_schema_url, scope_name, scope_version, scope_attributes, encoding ("protobuf"/"json"),
gzip (bool), request (1-based number of the export request that carried it). In /_test/spans
and --out, bytes values are base64 strings (as in OTLP JSON).

An export request is decoded (protobuf: upb, in C; JSON: json_format, in Python) and its ids
checked before it is answered; the decoded message is kept and flattened when spans are first
read (spans(), /_test/spans), which keeps the export path fast. --out flattens at once.
--count-only keeps no spans: it decodes each request and counts its spans (for benchmarks).
Measured on 2 cores, one keep-alive client, batches of 1,000 spans with 16 attributes
(tools/fleet/bench_fleet.py otlp): protobuf ~110,000-145,000 spans/s kept, ~400,000 count-only;
OTLP/JSON ~1,700 spans/s either way (google.protobuf.json_format is pure Python).
"""
import argparse
import base64
import json
import signal
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is in tools/requirements-test.txt
    orjson = None

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

MAX_BODY = 20 * 1024 * 1024  # the spec's recommended limit, also after decompression
CT_PROTO = "application/x-protobuf"
CT_JSON = "application/json"

# HTTP status -> google.rpc.Code, for the Status body of a failure (the spec lets clients ignore it).
GRPC_CODE = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 413: 8, 429: 8, 500: 13, 501: 12,
             502: 14, 503: 14, 504: 4}


class BadData(Exception):
    """The request body cannot be decoded (answered with 400)."""


# ---------------------------------------------------------------- JSON (OTLP JSON Protobuf Encoding)

def _json_loads(raw):
    if orjson is not None:
        return orjson.loads(raw)
    return json.loads(raw)


def _hex_to_b64(obj, key, where, want_len):
    """Rewrites obj[key] (an OTLP hex id) as the base64 string json_format expects."""
    v = obj.get(key)
    if v is None:
        return
    if not isinstance(v, str):
        raise BadData(f"{where}.{key}: expected a hex string, got {type(v).__name__}")
    try:
        b = bytes.fromhex(v)  # case-insensitive, as the spec says
    except ValueError:
        raise BadData(f"{where}.{key}: not a hex string: {v[:80]!r}") from None
    if b and len(b) != want_len:
        raise BadData(f"{where}.{key}: {len(b)} bytes, expected {want_len}")
    obj[key] = base64.b64encode(b).decode("ascii")


def _check_enum(obj, key, where):
    v = obj.get(key)
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadData(f"{where}.{key}: enum must be an integer in OTLP/JSON, got {v!r}")


def _drop_snake_keys(obj, ignored):
    """OTLP/JSON keys are lowerCamelCase; an original field name (with '_') is an unknown key,
    which receivers MUST ignore. json_format would accept it, so it is removed here."""
    if isinstance(obj, dict):
        for k in [k for k in obj if "_" in k]:
            ignored[k] = ignored.get(k, 0) + 1
            del obj[k]
        for v in obj.values():
            if isinstance(v, (dict, list)):
                _drop_snake_keys(v, ignored)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)):
                _drop_snake_keys(v, ignored)


def parse_otlp_json(raw, ignored_keys):
    """OTLP/JSON bytes -> ExportTraceServiceRequest, or BadData."""
    try:
        doc = _json_loads(raw)
    except (ValueError, TypeError) as e:
        raise BadData(f"invalid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadData("the body must be a JSON object (ExportTraceServiceRequest)")
    _drop_snake_keys(doc, ignored_keys)
    rss = doc.get("resourceSpans") or []
    if not isinstance(rss, list):
        raise BadData("resourceSpans must be an array")
    for i, rs in enumerate(rss):
        if not isinstance(rs, dict):
            raise BadData(f"resourceSpans[{i}] must be an object")
        sss = rs.get("scopeSpans") or []
        if not isinstance(sss, list):
            raise BadData(f"resourceSpans[{i}].scopeSpans must be an array")
        for j, ss in enumerate(sss):
            if not isinstance(ss, dict):
                raise BadData(f"resourceSpans[{i}].scopeSpans[{j}] must be an object")
            spans = ss.get("spans") or []
            if not isinstance(spans, list):
                raise BadData(f"resourceSpans[{i}].scopeSpans[{j}].spans must be an array")
            for k, sp in enumerate(spans):
                where = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                if not isinstance(sp, dict):
                    raise BadData(f"{where} must be an object")
                _hex_to_b64(sp, "traceId", where, 16)
                _hex_to_b64(sp, "spanId", where, 8)
                _hex_to_b64(sp, "parentSpanId", where, 8)
                _check_enum(sp, "kind", where)
                st = sp.get("status")
                if isinstance(st, dict):
                    _check_enum(st, "code", where + ".status")
                for n, ln in enumerate(sp.get("links") or []):
                    if isinstance(ln, dict):
                        _hex_to_b64(ln, "traceId", f"{where}.links[{n}]", 16)
                        _hex_to_b64(ln, "spanId", f"{where}.links[{n}]", 8)
    req = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(doc, req, ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise BadData(f"not an ExportTraceServiceRequest: {e}") from None
    return req


def parse_otlp_protobuf(raw):
    req = ExportTraceServiceRequest()
    try:
        req.ParseFromString(raw)
    except DecodeError as e:
        raise BadData(f"invalid protobuf: {e}") from None
    return req


# ---------------------------------------------------------------- flattening

def any_value(v):
    """AnyValue -> plain Python (None for an empty AnyValue)."""
    w = v.WhichOneof("value")
    if w is None:
        return None
    if w == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if w == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, w)  # string_value, bool_value, int_value, double_value, bytes_value


def attrs(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def check_ids(req):
    """Every span's and link's ids have the lengths OTLP requires (0 means absent); BadData if not."""
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for sp in ss.spans:
                if len(sp.trace_id) not in (0, 16) or len(sp.span_id) not in (0, 8) \
                        or len(sp.parent_span_id) not in (0, 8):
                    raise BadData(f"span {sp.name!r}: trace_id/span_id/parent_span_id have "
                                  f"{len(sp.trace_id)}/{len(sp.span_id)}/{len(sp.parent_span_id)} bytes, "
                                  "expected 16/8/8 (or 0 when absent)")
                for ln in sp.links:
                    if len(ln.trace_id) not in (0, 16) or len(ln.span_id) not in (0, 8):
                        raise BadData(f"span {sp.name!r}: a link's trace_id/span_id have "
                                      f"{len(ln.trace_id)}/{len(ln.span_id)} bytes, expected 16/8")


def flatten(req, encoding, gzipped, request_no):
    """ExportTraceServiceRequest -> list of flat span dicts (see the module doc)."""
    out = []
    append = out.append
    for rs in req.resource_spans:
        res = attrs(rs.resource.attributes)
        res_schema = rs.schema_url
        for ss in rs.scope_spans:
            sc = ss.scope
            scope_name, scope_version = sc.name, sc.version
            scope_attrs = attrs(sc.attributes) if sc.attributes else {}
            for sp in ss.spans:
                st = sp.status
                append({
                    "trace_id": sp.trace_id.hex(),
                    "span_id": sp.span_id.hex(),
                    "parent_span_id": sp.parent_span_id.hex(),
                    "trace_state": sp.trace_state,
                    "flags": sp.flags,
                    "name": sp.name,
                    "kind": sp.kind,
                    "start_time_unix_nano": sp.start_time_unix_nano,
                    "end_time_unix_nano": sp.end_time_unix_nano,
                    "status_code": st.code,
                    "status_message": st.message,
                    "attributes": attrs(sp.attributes),
                    "dropped_attributes_count": sp.dropped_attributes_count,
                    "events": [{"name": e.name, "time_unix_nano": e.time_unix_nano,
                                "attributes": attrs(e.attributes)} for e in sp.events] if sp.events else [],
                    "links": [{"trace_id": ln.trace_id.hex(), "span_id": ln.span_id.hex(),
                               "trace_state": ln.trace_state, "attributes": attrs(ln.attributes)}
                              for ln in sp.links] if sp.links else [],
                    "resource": res,
                    "resource_schema_url": res_schema,
                    "scope_name": scope_name,
                    "scope_version": scope_version,
                    "scope_attributes": scope_attrs,
                    "encoding": encoding,
                    "gzip": gzipped,
                    "request": request_no,
                })
    return out


def count_spans(req):
    return sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)


def _json_default(o):
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(o).decode("ascii")
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps(obj):
    if orjson is not None:
        return orjson.dumps(obj, default=_json_default)
    return json.dumps(obj, default=_json_default, separators=(",", ":")).encode()


# ---------------------------------------------------------------- the receiver

class OTLPReceiver:
    """The receiver; `start()` serves in a background thread, `serve_forever()` in this one."""

    def __init__(self, host="127.0.0.1", port=0, out=None, count_only=False, max_body=MAX_BODY):
        self.count_only = count_only
        self.max_body = max_body
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._out = open(out, "ab") if out else None
        self._reset_locked()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self
        self._thread = None

    # -- state
    def _reset_locked(self):
        self._spans = []  # flattened spans
        self._pending = []  # (request message, encoding, gzipped, request number), flattened on read
        self._span_count = 0
        self._requests = 0
        self._by_status = {}
        self._by_encoding = {}
        self._gzip_requests = 0
        self._bytes = 0
        self._ignored_json_keys = {}
        self._fault = None  # {"status", "retry_after", "remaining" (None = until cleared), "message"}
        self._delay_ms = 0
        self._partial = None

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def host(self):
        return self._server.server_address[0]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def traces_url(self):
        return self.url + "/v1/traces"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)
        with self._lock:
            if self._out:
                self._out.close()
                self._out = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        with self._lock:
            self._reset_locked()

    def _materialise_locked(self):
        # Flattening costs ~20 us a span in Python, so an export only decodes, checks the ids and
        # keeps the decoded message; spans are flattened when first read.
        for req, encoding, gzipped, request_no in self._pending:
            self._spans.extend(flatten(req, encoding, gzipped, request_no))
        self._pending.clear()

    def spans(self):
        """Every accepted span, flattened, in arrival order."""
        with self._lock:
            self._materialise_locked()
            return list(self._spans)

    def stats(self):
        with self._lock:
            return {
                "requests": self._requests,
                "spans": self._span_count,
                "by_status": dict(self._by_status),
                "by_encoding": dict(self._by_encoding),
                "gzip_requests": self._gzip_requests,
                "bytes": self._bytes,
                "ignored_json_keys": dict(self._ignored_json_keys),
                "mode": self._mode_locked(),
                "count_only": self.count_only,
            }

    def _mode_locked(self):
        m = {"delay_ms": self._delay_ms}
        if self._fault:
            m.update(status=self._fault["status"], retry_after=self._fault["retry_after"],
                     remaining=self._fault["remaining"])
        if self._partial:
            m["partial_rejected"] = self._partial[0]
        return m

    def wait_for_spans(self, n, timeout=10.0):
        """Blocks until at least n spans were accepted; returns the count (may be < n on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._span_count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._span_count

    def set_mode(self, mode):
        """Same JSON as POST /_test/mode. Raises ValueError for a malformed one."""
        allowed = {"status", "retry_after", "count", "message", "delay_ms", "partial_rejected",
                   "partial_message"}
        if not isinstance(mode, dict):
            raise ValueError("mode must be a JSON object")
        unknown = set(mode) - allowed
        if unknown:
            raise ValueError(f"unknown mode keys: {sorted(unknown)} (allowed: {sorted(allowed)})")
        with self._lock:
            if "status" in mode:
                st = mode["status"]
                if st is None or st == 200:
                    self._fault = None
                else:
                    if not isinstance(st, int) or isinstance(st, bool) or not 400 <= st <= 599:
                        raise ValueError("status must be an integer 400..599, or null to clear")
                    count = mode.get("count")
                    if count is not None and (not isinstance(count, int) or count < 1):
                        raise ValueError("count must be a positive integer")
                    ra = mode.get("retry_after")
                    self._fault = {"status": st, "retry_after": None if ra is None else str(ra),
                                   "remaining": count, "message": mode.get("message")}
            if "delay_ms" in mode:
                d = mode["delay_ms"]
                if not isinstance(d, (int, float)) or d < 0:
                    raise ValueError("delay_ms must be a number >= 0")
                self._delay_ms = d
            if "partial_rejected" in mode:
                pr = mode["partial_rejected"]
                if pr is None:
                    self._partial = None
                elif not isinstance(pr, int) or pr < 0:
                    raise ValueError("partial_rejected must be an integer >= 0, or null")
                else:
                    self._partial = (pr, mode.get("partial_message") or f"{pr} spans rejected (test mode)")
            return self._mode_locked()

    # -- the export path
    def _take_fault(self):
        """Under the lock: the fault that answers this request, if any."""
        f = self._fault
        if f is None:
            return None
        if f["remaining"] is not None:
            f["remaining"] -= 1
            if f["remaining"] <= 0:
                self._fault = None
        return f

    def export(self, body, content_type, gzipped, wire_bytes):
        """Handles one export request. Returns (http_status, headers, body_bytes)."""
        encoding = "json" if content_type == CT_JSON else "protobuf"
        with self._lock:
            self._requests += 1
            request_no = self._requests
            self._bytes += wire_bytes
            self._by_encoding[encoding] = self._by_encoding.get(encoding, 0) + 1
            if gzipped:
                self._gzip_requests += 1
            fault = self._take_fault()
            delay = self._delay_ms
            partial = self._partial
        if delay:
            time.sleep(delay / 1000.0)
        if fault is not None:
            return self._finish(request_no, *self._fault_response(fault, content_type))
        ignored = {}
        try:
            if encoding == "json":
                req = parse_otlp_json(body, ignored)
            else:
                req = parse_otlp_protobuf(body)
            n = count_spans(req)
            flat = None
            if not self.count_only:
                check_ids(req)
                if self._out is not None:
                    flat = flatten(req, encoding, gzipped, request_no)
        except BadData as e:
            return self._finish(request_no, *status_response(400, str(e), content_type,
                                                            bad_request_field="body"))
        resp = ExportTraceServiceResponse()
        if partial is not None:
            resp.partial_success.rejected_spans = partial[0]
            resp.partial_success.error_message = partial[1]
        with self._cond:
            for k, c in ignored.items():
                self._ignored_json_keys[k] = self._ignored_json_keys.get(k, 0) + c
            self._span_count += n
            if not self.count_only and n:
                if flat is not None:
                    self._materialise_locked()
                    self._spans.extend(flat)
                    if self._out:
                        self._out.write(b"".join(dumps(s) + b"\n" for s in flat))
                        self._out.flush()
                else:
                    self._pending.append((req, encoding, gzipped, request_no))
            self._cond.notify_all()
        return self._finish(request_no, 200, {}, encode_message(resp, content_type))

    def _finish(self, request_no, status, headers, body):
        with self._lock:
            key = str(status)
            self._by_status[key] = self._by_status.get(key, 0) + 1
        return status, headers, body

    def _fault_response(self, fault, content_type):
        st = fault["status"]
        msg = fault["message"] or f"injected by /_test/mode: HTTP {st}"
        headers = {}
        if fault["retry_after"] is not None:
            headers["Retry-After"] = fault["retry_after"]
        retry = None
        if fault["retry_after"] is not None:
            try:
                retry = float(fault["retry_after"])
            except ValueError:
                retry = None
        status, _, body = status_response(
            st, msg, content_type, retry_after_s=retry,
            bad_request_field="body" if st == 400 else None)
        return status, headers, body


def encode_message(msg, content_type):
    if content_type == CT_JSON:
        return json_format.MessageToJson(msg, indent=None).encode()
    return msg.SerializeToString()


def status_response(http_status, message, content_type, retry_after_s=None, bad_request_field=None):
    """A google.rpc.Status failure body in the request's encoding."""
    st = status_pb2.Status(code=GRPC_CODE.get(http_status, 2), message=message)
    if bad_request_field is not None:
        br = error_details_pb2.BadRequest()
        fv = br.field_violations.add()
        fv.field = bad_request_field
        fv.description = message
        st.details.add().Pack(br)
    if retry_after_s is not None:
        ri = error_details_pb2.RetryInfo()
        ri.retry_delay.FromNanoseconds(int(retry_after_s * 1e9))
        st.details.add().Pack(ri)
    return http_status, {}, encode_message(st, content_type)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "plumb-otlp-receiver"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body=b"", content_type="text/plain; charset=utf-8", headers=None):
        self.send_response(status)
        if body or status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self, limit):
        """The request body, or None after answering 411/413 (too large or unreadable)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > limit:
                    self.close_connection = True
                    self._send(413, b"request body too large\n")
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
        except ValueError:
            self.close_connection = True
            self._send(400, b"bad Content-Length\n")
            return None
        if n > limit:
            self.close_connection = True
            self._send(413, b"request body too large\n")
            return None
        return self.rfile.read(n)

    def do_POST(self):
        rcv = self.server.receiver
        path = urlsplit(self.path).path
        if path == "/v1/traces":
            return self._export(rcv)
        body = self._read_body(MAX_BODY)
        if body is None:
            return
        if path == "/_test/reset":
            rcv.reset()
            return self._send(200, b'{"ok":true}', "application/json")
        if path == "/_test/mode":
            try:
                mode = _json_loads(body or b"{}")
                out = rcv.set_mode(mode)
            except ValueError as e:
                return self._send(400, dumps({"error": str(e)}), "application/json")
            return self._send(200, dumps({"ok": True, "mode": out}), "application/json")
        self._send(404, b"not found\n")

    def do_GET(self):
        rcv = self.server.receiver
        u = urlsplit(self.path)
        if u.path == "/_test/spans":
            q = parse_qs(u.query)
            try:
                off = int(q.get("offset", ["0"])[0])
                lim = int(q["limit"][0]) if "limit" in q else None
            except ValueError:
                return self._send(400, b"offset and limit must be integers\n")
            spans = rcv.spans()
            if "trace_id" in q:
                want = q["trace_id"][0].lower()
                spans = [s for s in spans if s["trace_id"] == want]
            spans = spans[off:off + lim] if lim is not None else spans[off:]
            return self._send(200, dumps(spans), "application/json")
        if u.path == "/_test/stats":
            return self._send(200, dumps(rcv.stats()), "application/json")
        if u.path == "/v1/traces":
            return self._send(405, b"method not allowed\n", headers={"Allow": "POST"})
        if u.path in ("/", "/health"):
            return self._send(200, b"ok\n")
        self._send(404, b"not found\n")

    def do_PUT(self):
        self._read_body(MAX_BODY)
        self._send(405, b"method not allowed\n", headers={"Allow": "POST"})

    do_DELETE = do_PATCH = do_PUT

    def _export(self, rcv):
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        body = self._read_body(rcv.max_body)
        if body is None:
            return
        if ctype not in (CT_PROTO, CT_JSON):
            return self._send(415, f"unsupported Content-Type {ctype!r}: use {CT_PROTO} or {CT_JSON}\n"
                              .encode(), headers={"Accept-Post": f"{CT_PROTO}, {CT_JSON}"})
        enc = (self.headers.get("Content-Encoding") or "").strip().lower()
        gzipped = False
        wire = len(body)
        if enc in ("gzip", "x-gzip"):
            gzipped = True
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                plain = d.decompress(body, rcv.max_body + 1)
            except zlib.error as e:
                return self._send(*status_response(400, f"invalid gzip body: {e}", ctype,
                                                   bad_request_field="body")[::2], content_type=ctype)
            if len(plain) > rcv.max_body or d.unconsumed_tail:
                return self._send(413, b"request body too large after decompression\n")
            if not d.eof:
                return self._send(*status_response(400, "truncated gzip body", ctype,
                                                   bad_request_field="body")[::2], content_type=ctype)
            body = plain
        elif enc not in ("", "identity"):
            return self._send(*status_response(400, f"unsupported Content-Encoding {enc!r}", ctype)[::2],
                              content_type=ctype)
        status, headers, out = rcv.export(body, ctype, gzipped, wire)
        self._send(status, out, ctype, headers)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4318)
    ap.add_argument("--out", help="append every accepted span, flattened, to this JSON-lines file")
    ap.add_argument("--count-only", action="store_true", help="decode and count; keep no spans")
    args = ap.parse_args(argv)
    if args.count_only and args.out:
        ap.error("--out needs the flattened spans; it cannot go with --count-only")
    rcv = OTLPReceiver(args.host, args.port, out=args.out, count_only=args.count_only)

    def stop(signum, frame):
        threading.Thread(target=rcv._server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on {rcv.host}:{rcv.port}", flush=True)
    try:
        rcv.serve_forever()
    finally:
        rcv._server.server_close()
        with rcv._lock:
            if rcv._out:
                rcv._out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
