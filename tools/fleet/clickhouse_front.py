#!/usr/bin/env python3
"""ClickHouse's own engine (chdb, in-process) behind the parts of ClickHouse's HTTP interface
(port 8123 protocol) that a client such as Plumb uses. For tests and benchmarks.

    clickhouse_front.py --port N --path DIR [--host 127.0.0.1] [--user U --password P]

Prints `listening on HOST:PORT` once it accepts connections (port 0 picks a free one); SIGTERM or
SIGINT stops it cleanly (the chdb engine is closed, so a restart on the same --path finds the
data). Only one --path per process: chdb hosts one engine per process.

The HTTP interface, as ClickHouse documents and implements it (docs/en/interfaces/http.md,
src/Server/HTTPHandler.cpp and friends):
- GET /?query=...  (read-only: runs with readonly=2, so INSERT/DDL fail with READONLY),
  POST / with the query as the body, or POST /?query=HEAD with the body appended after a line feed:
  for `INSERT ... FORMAT F` / `INSERT ... VALUES` the rest is the data, passed to chdb as bytes
  through its streaming-insert API (binary formats such as RowBinary and Native included).
  GET / without a query and GET /ping answer "Ok.".
- `database` param / `X-ClickHouse-Database` header; `default_format` param / `X-ClickHouse-Format`
  header (TabSeparated otherwise; a FORMAT clause wins); `param_<name>` values for `{name:Type}`
  placeholders (substituted by the engine itself, parsed from the escaped format as ClickHouse
  does); every other URL parameter that is not one of ClickHouse's reserved ones is a setting for
  this request (applied with SET on the request's own chdb connection, so nothing leaks into the
  next request; an unknown name fails with UNKNOWN_SETTING as in ClickHouse).
- Request `Content-Encoding: gzip` (or deflate); the answer is gzipped only when
  enable_http_compression=1 and the client accepts gzip.
- Credentials from X-ClickHouse-User/X-ClickHouse-Key, or HTTP basic auth, or user/password URL
  params (mixing two ways is refused, as ClickHouse does); checked against --user/--password
  (default: user `default`, empty password). Wrong ones: 403 and
  `Code: 516. DB::Exception: U: Authentication failed: ... (AUTHENTICATION_FAILED) (version V)`.
- Errors: ClickHouse's HTTP status for the code (exceptionCodeToHTTPStatus), body
  `Code: N. DB::Exception: message. (NAME) (version V (official build))`, header
  X-ClickHouse-Exception-Code. Answers carry X-ClickHouse-Summary, X-ClickHouse-Format,
  X-ClickHouse-Query-Id, X-ClickHouse-Timezone.
- Not supported: sessions (session_id is ignored: every request is its own session), the native
  compression of compress=1/decompress=1 (refused with NOT_IMPLEMENTED), external data (multipart),
  progress headers, streaming of results (each answer is built whole, with a Content-Length).

Importable: `ClickHouseFront(path, port=0).start()` runs it in a thread (one per process).
Measured on 2 cores (tools/fleet/bench_fleet.py clickhouse): RowBinary inserts of 30 columns,
1,000 rows in ~11 ms (~87,000 rows/s), 10,000 rows in ~40 ms (~250,000 rows/s), over HTTP.
"""
import argparse
import base64
import gzip
import hmac
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MAX_BODY = 512 * 1024 * 1024

# URL parameters that ClickHouse's HTTP handler consumes itself (never settings).
RESERVED_PARAMS = {
    "query", "database", "default_format", "user", "password", "quota_key", "query_id", "stacktrace",
    "role", "buffer_size", "wait_end_of_query", "session_id", "session_timeout", "session_check",
    "client_protocol_version", "close_session", "compress", "decompress",
}

# src/Server/HTTP/exceptionCodeToHTTPStatus.cpp, by error name.
_STATUS_BY_NAME = {}
for _names, _status in (
    (("REQUIRED_PASSWORD",), 401),
    (("UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"), 403),
    (("BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
      "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
      "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
      "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN",
      "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST",
      "TOO_BIG_AST", "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
      "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"), 400),
    (("UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
      "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
      "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"), 404),
    (("QUERY_IS_TOO_LARGE",), 413),
    (("NOT_IMPLEMENTED",), 501),
    (("SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"), 503),
    (("HTTP_LENGTH_REQUIRED",), 411),
    (("TIMEOUT_EXCEEDED",), 408),
    (("UNSUPPORTED_MEDIA_TYPE",), 415),
):
    for _n in _names:
        _STATUS_BY_NAME[_n] = _status

# Error codes used by the front itself (names come from the engine's errorCodeToName at start-up).
SYNTAX_ERROR, NOT_IMPLEMENTED, UNKNOWN_SETTING, ZLIB_INFLATE_FAILED, AUTHENTICATION_FAILED = 62, 48, 115, 354, 516
QUERY_IS_TOO_LARGE, STD_EXCEPTION = 202, 1001


class CHError(Exception):
    def __init__(self, code, message, name=None):
        super().__init__(message)
        self.code, self.message, self.name = code, message, name


_CODE_RE = re.compile(r"Code: (\d+)\. DB::Exception: ")
_PREFIX_RE = re.compile(r"^Code: \d+\. DB::Exception: ", re.S)
_SUFFIX_RE = re.compile(r"\.?\s*\(([A-Z][A-Z0-9_]*)\)(?:\s*\(version [^()]*(?:\([^()]*\))?[^()]*\))?\s*$", re.S)


def engine_error(exc):
    """A chdb exception -> CHError(code, bare message, NAME)."""
    s = str(exc)
    m = _CODE_RE.search(s)
    if not m:
        return CHError(STD_EXCEPTION, s.strip() or type(exc).__name__)
    code = int(m.group(1))
    msg = s[m.start():]
    while True:
        m2 = _PREFIX_RE.match(msg)
        if not m2:
            break
        msg = msg[m2.end():]
    name = None
    while True:
        m3 = _SUFFIX_RE.search(msg)
        if not m3:
            break
        name = name or m3.group(1)
        msg = msg[:m3.start()]
    return CHError(code, msg.rstrip(), name)


# ---------------------------------------------------------------- a small lexer for the query head

_WS = b" \t\n\r\f\v"
_WORD0 = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD = _WORD0 | set(b"0123456789$")
_NUM = set(b"0123456789abcdefxABCDEFX._")


def _tokens(buf, i=0):
    """Yields (kind, start, end): word, num, str, qid, open, close, semi, punct. Skips comments."""
    n = len(buf)
    while i < n:
        c = buf[i]
        if c in _WS:
            i += 1
        elif c == 0x2D and buf.startswith(b"--", i) or c == 0x23:  # -- or # comment
            j = buf.find(b"\n", i)
            i = n if j < 0 else j + 1
        elif c == 0x2F and buf.startswith(b"/*", i):  # /* */, nested as in ClickHouse
            depth, i = 1, i + 2
            while i < n and depth:
                if buf.startswith(b"/*", i):
                    depth, i = depth + 1, i + 2
                elif buf.startswith(b"*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c in (0x27, 0x22, 0x60):  # ' " `
            j = i + 1
            while j < n:
                if buf[j] == 0x5C:
                    j += 2
                elif buf[j] == c:
                    if j + 1 < n and buf[j + 1] == c:
                        j += 2
                    else:
                        break
                else:
                    j += 1
            yield ("str" if c == 0x27 else "qid"), i, min(j + 1, n)
            i = j + 1
        elif c in _WORD0:
            j = i + 1
            while j < n and buf[j] in _WORD:
                j += 1
            yield "word", i, j
            i = j
        elif 0x30 <= c <= 0x39:
            j = i + 1
            while j < n and buf[j] in _NUM:
                j += 1
            yield "num", i, j
            i = j
        elif c in b"([{":
            yield "open", i, i + 1
            i += 1
        elif c in b")]}":
            yield "close", i, i + 1
            i += 1
        elif c == 0x3B:
            yield "semi", i, i + 1
            i += 1
        else:
            yield "punct", i, i + 1
            i += 1


class Plan:
    """What a request's query text means to the front."""
    insert_head = None  # for an INSERT with inline data: the statement without FORMAT/VALUES
    insert_format = None  # the data's format
    data_start = None  # offset of the data in the buffer
    output_format = None  # FORMAT clause of another query, if any


def plan_query(buf):
    """Finds, without parsing SQL, whether buf is an INSERT carrying inline data (and where the
    data starts, by ClickHouse's rule), or else the query's FORMAT clause."""
    p = Plan()
    toks = _tokens(buf)
    first = None
    depth = 0
    prev_word = None
    prev_kind = None
    candidates = []  # (format name, index into seen tokens)
    seen = []
    for kind, a, b in toks:
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        if kind == "word":
            w = buf[a:b].upper()
            if first is None:
                first = w
            if first == b"INSERT" and depth == 0:
                as_name = prev_word in (b"INTO", b"TABLE", b"FUNCTION") or prev_kind == "punct" and buf[a - 1:a] == b"."
                if w == b"FORMAT" and not as_name:
                    nxt = next(toks, None)
                    if nxt is None or nxt[0] not in ("word", "qid"):
                        return p  # let the engine report the syntax error
                    p.insert_format = buf[nxt[1]:nxt[2]].decode("ascii", "replace").strip("`\"")
                    p.insert_head = buf[:a]
                    i, n = nxt[2], len(buf)
                    if i < n and buf[i] == 0x3B:
                        raise CHError(SYNTAX_ERROR, "You have excessive ';' symbol before data for INSERT.\n"
                                      "Note that there is no ';' just after format name, "
                                      "you need to put at least one whitespace symbol before the data")
                    while i < n and buf[i] in b" \t\f":
                        i += 1
                    if i < n and buf[i] == 0x0D:
                        i += 1
                    if i < n and buf[i] == 0x0A:
                        i += 1
                    p.data_start = i
                    return p
                if w == b"VALUES" and not as_name:
                    p.insert_format = "Values"
                    p.insert_head = buf[:a]
                    p.data_start = b
                    return p
                if w in (b"SELECT", b"WITH", b"INFILE") and not as_name:
                    return p  # INSERT ... SELECT, or FROM INFILE: an ordinary query
            elif first != b"INSERT" and depth == 0 and w == b"FORMAT":
                candidates.append((a, len(seen)))
            prev_word = w
        prev_kind = kind
        seen.append((kind, a, b))
    # A FORMAT clause stands near the end: followed by its name, then nothing, ';' or SETTINGS.
    for a, idx in reversed(candidates):
        if idx + 1 >= len(seen) or seen[idx + 1][0] not in ("word", "qid"):
            continue
        rest = seen[idx + 2:]
        if not rest or rest[0][0] == "semi" or (rest[0][0] == "word" and buf[rest[0][1]:rest[0][2]].upper() == b"SETTINGS"):
            k, s, e = seen[idx + 1]
            p.output_format = buf[s:e].decode("ascii", "replace").strip("`\"")
            break
    return p


def content_type_for(fmt):
    f = fmt.lower()
    if f.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=" + ("present" if "withnames" in f else "absent")
    if f.startswith(("json", "ndjson", "prettyjson")) or f == "jsonlines":
        return "application/json; charset=UTF-8"
    if f == "xml":
        return "application/xml; charset=UTF-8"
    if f.startswith(("rowbinary", "native", "parquet", "arrow", "orc", "avro", "msgpack", "protobuf",
                     "capnproto", "npy", "bson", "rawblob")):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


def _quote_literal(v):
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _quote_ident(v):
    return "`" + v.replace("\\", "\\\\").replace("`", "\\`") + "`"


_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------- the engine

class Engine:
    """One chdb engine on one path; every statement runs under one lock, each HTTP request on a
    connection of its own (so SET/USE last one request, as in a ClickHouse HTTP request)."""

    def __init__(self, path):
        import chdb  # imported here so that the module imports without chdb (tests of the lexer)
        self._chdb = chdb
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self.lock = threading.Lock()
        self.main = chdb.connect(self.path)  # held open: the engine lives while one connection does
        info = self.main.query("SELECT version(), timezone()", "TabSeparated").bytes().decode().rstrip("\n")
        self.version, self.timezone = info.split("\t")
        rows = self.main.query("SELECT number, errorCodeToName(number) FROM numbers(2000) "
                               "WHERE errorCodeToName(number) != ''", "TabSeparated").bytes().decode()
        self.error_names = {int(c): n for c, n in (ln.split("\t") for ln in rows.splitlines())}

    def close(self):
        with self.lock:
            if self.main is not None:
                self.main.close()
                self.main = None

    def run(self, buf, *, readonly, settings, database, default_format, params):
        """Runs one request's query (bytes). Returns (body, output format, summary dict)."""
        plan = plan_query(buf)
        t0 = time.perf_counter()
        with self.lock:
            if self.main is None:
                raise CHError(STD_EXCEPTION, "the server is shutting down")
            conn = self._chdb.connect(self.path)
            try:
                try:
                    if readonly:
                        conn.query("SET readonly = 2")
                    for k, v in settings:
                        if not _SETTING_NAME.match(k):
                            raise CHError(UNKNOWN_SETTING, f"Unknown setting '{k}'")
                        conn.query(f"SET {k} = {_quote_literal(v)}")
                    if database:
                        conn.query(f"USE {_quote_ident(database)}")
                    if plan.insert_head is not None:
                        return self._insert(conn, buf, plan, t0)
                    return self._query(conn, buf, plan, default_format, params, t0)
                except CHError:
                    raise
                except Exception as e:  # chdb raises RuntimeError / ChdbError with the engine's text
                    raise engine_error(e) from None
            finally:
                conn.close()

    def _insert(self, conn, buf, plan, t0):
        head = plan.insert_head.decode("utf-8", "strict")
        data = memoryview(buf)[plan.data_start:]
        ins = conn.send_insert(head, plan.insert_format)
        try:
            if len(data):
                ins.append(data)
            res = ins.finish()
        except BaseException:
            ins.cancel()
            raise
        summary = {"read_rows": res.rows_written, "read_bytes": len(data),
                   "written_rows": res.rows_written, "written_bytes": res.bytes_written,
                   "total_rows_to_read": 0, "result_rows": res.rows_written, "result_bytes": res.bytes_written,
                   "elapsed_ns": int((time.perf_counter() - t0) * 1e9)}
        return b"", None, summary

    def _query(self, conn, buf, plan, default_format, params, t0):
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CHError(SYNTAX_ERROR, f"Syntax error: the query is not valid UTF-8 ({e})") from None
        if not text.strip():
            raise CHError(SYNTAX_ERROR, "Empty query")
        classify = getattr(getattr(conn, "_conn", None), "classify_query", None)
        if classify is not None:
            info = classify(text)
            if info.get("statement_count", 0) > 1:
                raise CHError(SYNTAX_ERROR, "Syntax error (Multi-statements are not allowed)")
        fmt = plan.output_format or default_format or "TabSeparated"
        res = conn.query(text, default_format or "TabSeparated", params=params)
        body = res.bytes()
        summary = {"read_rows": res.rows_read(), "read_bytes": res.bytes_read(),
                   "written_rows": res.rows_written(), "written_bytes": res.bytes_written(),
                   "total_rows_to_read": res.rows_read(), "result_rows": 0, "result_bytes": len(body),
                   "elapsed_ns": int((time.perf_counter() - t0) * 1e9)}
        return body, fmt, summary


# ---------------------------------------------------------------- HTTP

class ClickHouseFront:
    def __init__(self, path, host="127.0.0.1", port=0, user=None, password=None):
        self.user = user or "default"
        self.password = password or ""
        self.engine = Engine(path)
        self.display_name = socket.gethostname()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.front = self
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def host(self):
        return self._server.server_address[0]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="clickhouse-front", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(10)
        self.engine.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def error_text(self, err, user):
        name = err.name or self.engine.error_names.get(err.code, "UNKNOWN_EXCEPTION")
        msg = err.message
        if user != "default" and msg.startswith("default: "):
            msg = f"{user}: " + msg[len("default: "):]  # the engine runs every query as `default`
        return f"Code: {err.code}. DB::Exception: {msg}. ({name}) (version {self.engine.version} (official build))\n"

    def http_status(self, err):
        name = err.name or self.engine.error_names.get(err.code, "")
        return _STATUS_BY_NAME.get(name, 500)

    def authenticate(self, headers, params):
        """ClickHouse's authenticateUserByHTTP, for Basic credentials. Returns the user name."""
        user = headers.get("X-ClickHouse-User", "")
        password = headers.get("X-ClickHouse-Key", "")
        has_headers = bool(user or password)
        auth = headers.get("Authorization")
        in_params = "user" in params or "password" in params

        def both(a, b):
            raise CHError(AUTHENTICATION_FAILED, f"Invalid authentication: it is not allowed to use {a} and {b} simultaneously")

        if has_headers:
            if not user:
                raise CHError(AUTHENTICATION_FAILED, "Got an empty user name from X-ClickHouse HTTP headers")
            if auth:
                both("X-ClickHouse HTTP headers", "Authorization HTTP header")
            if in_params:
                both("X-ClickHouse HTTP headers", "authentication via parameters")
        elif auth:
            if in_params:
                both("Authorization HTTP header", "authentication via parameters")
            scheme, _, info = auth.strip().partition(" ")
            if scheme.lower() != "basic":
                raise CHError(AUTHENTICATION_FAILED,
                              f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported")
            try:
                user, _, password = base64.b64decode(info.strip(), validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise CHError(AUTHENTICATION_FAILED, "Invalid authentication: malformed Basic credentials") from None
            if not user:
                raise CHError(AUTHENTICATION_FAILED, "Got an empty user name from Authorization HTTP header")
        else:
            user = params.get("user", "default")
            password = params.get("password", "")
            if not user:
                raise CHError(AUTHENTICATION_FAILED, "Got an empty user name from authentication via parameters")
        ok = hmac.compare_digest(user.encode(), self.user.encode()) & hmac.compare_digest(
            password.encode(), self.password.encode())
        if not ok:
            raise CHError(AUTHENTICATION_FAILED,
                          f"{user}: Authentication failed: password is incorrect, or there is no user with such name")
        return user


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ClickHouse"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise CHError(QUERY_IS_TOO_LARGE, f"Request body is larger than {MAX_BODY} bytes")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise CHError(QUERY_IS_TOO_LARGE, f"Request body is larger than {MAX_BODY} bytes")
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    def _handle(self):
        front = self.server.front
        u = urlsplit(self.path)
        base = {"X-ClickHouse-Server-Display-Name": front.display_name}
        user = "default"
        query_id = None
        try:
            body = self._read_body() if self.command == "POST" else b""
            pairs = parse_qsl(u.query, keep_blank_values=True)
            params = {}
            for k, v in pairs:
                params[k] = v
            path = u.path.rstrip("/") or "/"
            if path in ("/ping", "/replicas_status") or (path == "/" and self.command != "POST" and "query" not in params):
                return self._send(200, b"Ok.\n", {**base, "Content-Type": "text/html; charset=UTF-8"})
            if path != "/":
                return self._send(404, f"There is no handle {u.path}\n\nUse / or /ping for health checks.\n"
                                       "Send queries from your program with POST method or GET /?query=...\n".encode(),
                                  {**base, "Content-Type": "text/plain; charset=UTF-8"})
            user = front.authenticate(self.headers, params)
            query_id = params.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
            base["X-ClickHouse-Query-Id"] = query_id
            base["X-ClickHouse-Timezone"] = front.engine.timezone
            for flag in ("compress", "decompress"):
                if params.get(flag, "0") not in ("", "0", "false"):
                    raise CHError(NOT_IMPLEMENTED, f"{flag}=1 (ClickHouse's native compression) is not "
                                  "supported by this test front: use Content-Encoding: gzip")
            if (self.headers.get("Content-Type") or "").startswith("multipart/form-data"):
                raise CHError(NOT_IMPLEMENTED, "External data (multipart/form-data) is not supported by this test front")
            enc = (self.headers.get("Content-Encoding") or "").strip().lower()
            if body and enc not in ("", "identity", "none"):
                body = _decompress(body, enc)
            settings = []
            qparams = {}
            for k, v in pairs:
                if k.startswith("param_"):
                    qparams[k[len("param_"):]] = v
                elif k and k not in RESERVED_PARAMS:
                    settings.append((k, v))
            q = params.get("query", "").encode("utf-8")
            if q and body:
                buf = q + b"\n" + body
            else:
                buf = q or body
            database = self.headers.get("X-ClickHouse-Database") or params.get("database") or None
            default_format = self.headers.get("X-ClickHouse-Format") or params.get("default_format") or None
            out, fmt, summary = front.engine.run(
                buf, readonly=self.command in ("GET", "HEAD"), settings=settings, database=database,
                default_format=default_format, params=qparams)
            fmt = fmt or default_format or "TabSeparated"
            headers = {**base, "Content-Type": content_type_for(fmt), "X-ClickHouse-Format": fmt,
                       "X-ClickHouse-Summary": json.dumps({k: str(v) for k, v in summary.items()},
                                                          separators=(",", ":"))}
            sett = dict(settings)
            if out and sett.get("enable_http_compression", "0").lower() in ("1", "true") and \
                    "gzip" in (self.headers.get("Accept-Encoding") or "").lower():
                level = int(sett.get("http_zlib_compression_level", "3") or 3)
                out = gzip.compress(out, compresslevel=max(1, min(9, level)))
                headers["Content-Encoding"] = "gzip"
            return self._send(200, out, headers)
        except CHError as e:
            headers = {**base, "Content-Type": "text/plain; charset=UTF-8",
                       "X-ClickHouse-Exception-Code": str(e.code)}
            return self._send(front.http_status(e), front.error_text(e, user).encode(), headers)
        except (ConnectionError, ValueError) as e:
            self.close_connection = True
            err = CHError(STD_EXCEPTION, f"malformed request: {e}")
            return self._send(400, front.error_text(err, user).encode(),
                              {**base, "Content-Type": "text/plain; charset=UTF-8",
                               "X-ClickHouse-Exception-Code": str(err.code)})


def _decompress(body, enc):
    try:
        if enc in ("gzip", "x-gzip"):
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            d = zlib.decompressobj()
        else:
            raise CHError(NOT_IMPLEMENTED, f"Content-Encoding '{enc}' is not supported by this test front "
                          "(use gzip or deflate)")
        out = d.decompress(body, MAX_BODY + 1)
        if len(out) > MAX_BODY or d.unconsumed_tail:
            raise CHError(QUERY_IS_TOO_LARGE, f"Decompressed body is larger than {MAX_BODY} bytes")
        if not d.eof:
            raise CHError(ZLIB_INFLATE_FAILED, "inflate failed: unexpected end of the compressed body")
        return out
    except zlib.error as e:
        raise CHError(ZLIB_INFLATE_FAILED, f"inflate failed: {e}") from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--path", required=True, help="chdb's data directory (kept across restarts)")
    ap.add_argument("--user", help="the one user accepted (default: default)")
    ap.add_argument("--password", help="its password (default: empty)")
    args = ap.parse_args(argv)
    front = ClickHouseFront(args.path, args.host, args.port, args.user, args.password)

    def stop(signum, frame):
        threading.Thread(target=front._server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on {front.host}:{front.port}", flush=True)
    try:
        front.serve_forever()
    finally:
        front._server.server_close()
        front.engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
