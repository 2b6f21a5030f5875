"""HTTP-level attacks on a running `plumb serve`: framing and smuggling, header and line limits,
slowloris and other timeouts, a connection cap, client-key checks before the body, a huge JSON
body, a huge chunked body, and a client that never reads. After every case the server answers
/_plumb/health, stays under RSS_BOUND_MB resident, and `plumb verify` passes once it is stopped."""
import json
import selectors
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import (MOCK, HTTPReader, assert_alive, attack_connect, attack_server, build_request, health_check,
                      http_request, serve_refuses, spawn, start_attack, stop, stop_and_verify, wait_closed)

pytestmark = pytest.mark.usefixtures("attack_peak_rss")

RSS_BOUND_MB = 300
HEADER_TIMEOUT, IDLE_TIMEOUT, BODY_TIMEOUT = 2.0, 3.0, 2.0
TIMEOUTS = (f'header_timeout = "{HEADER_TIMEOUT:g}s"\nidle_timeout = "{IDLE_TIMEOUT:g}s"\n'
            f'body_timeout = "{BODY_TIMEOUT:g}s"\n')
SLOWLORIS_CONNECTIONS = 500
CONNECTION_CAP, CAP_ATTEMPTS = 100, 300
MAX_REQUEST_BYTES = 1_048_576
ADMIN_TOKEN, CLIENT_KEY = "t0ken", "ck-1"
CHAT = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}).encode()


@pytest.fixture(scope="module")
def timeouts_srv(tmp_path_factory, mock, attack_peak_rss):
    # A cap well above the slowloris count: this server is about the timeouts, not the cap.
    p = start_attack(tmp_path_factory.mktemp("timeouts"), mock, TIMEOUTS + "max_connections = 2000\n")
    yield p
    stop_and_verify(p)


@pytest.fixture(scope="module")
def plain_srv(tmp_path_factory, mock, attack_peak_rss):
    """Default configuration except a 1 MiB request limit."""
    p = start_attack(tmp_path_factory.mktemp("plain"), mock, f"max_request_bytes = {MAX_REQUEST_BYTES}\n")
    yield p
    stop_and_verify(p)


@pytest.fixture(scope="module")
def keyed_srv(tmp_path_factory, mock, attack_peak_rss):
    """Listening beyond loopback (reached on 127.0.0.1) with an admin token and a client key."""
    p = start_attack(tmp_path_factory.mktemp("keyed"), mock,
                     f'client_keys = ["{CLIENT_KEY}"]\nmax_request_bytes = {MAX_REQUEST_BYTES}\n',
                     listen="0.0.0.0:0", admin_token=ADMIN_TOKEN)
    yield p
    stop_and_verify(p)


def host(p):
    return f"127.0.0.1:{p.port}"


def first_response(sock, timeout):
    """The first response on the socket (or None if the server closed or stayed silent), and
    the seconds it took."""
    t = time.monotonic()
    try:
        return HTTPReader(sock).response(timeout=timeout), time.monotonic() - t
    except (OSError, ValueError, TimeoutError):
        return None, time.monotonic() - t


# -- 4. timeouts -------------------------------------------------------------------------------

def test_stalled_request_head_is_closed(timeouts_srv):
    p = timeouts_srv
    s = attack_connect(p)
    try:
        s.sendall(f"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {host(p)}\r\nContent-Type: app".encode())
        closed, took, got = wait_closed(s, HEADER_TIMEOUT + 6)
        assert closed and took <= HEADER_TIMEOUT + 2, \
            f"closed: {closed} after {took:.1f} s (header_timeout {HEADER_TIMEOUT:g} s); received {got[:60]!r}"
        assert got == b"" or got.startswith(b"HTTP/1.1 408"), got[:200]
    finally:
        s.close()
    assert_alive(p, RSS_BOUND_MB)


def test_idle_keep_alive_connection_is_closed(timeouts_srv):
    p = timeouts_srv
    s = attack_connect(p)
    try:
        s.sendall(build_request("GET", "/_plumb/health", host(p)))
        r = HTTPReader(s).response(timeout=5)
        assert r.status == 200 and r.header("connection") != "close", r
        closed, took, got = wait_closed(s, IDLE_TIMEOUT + 6)
        assert closed and 1.0 <= took <= IDLE_TIMEOUT + 2, \
            f"closed: {closed} after {took:.1f} s idle (idle_timeout {IDLE_TIMEOUT:g} s); received {got[:60]!r}"
    finally:
        s.close()
    assert_alive(p, RSS_BOUND_MB)


def test_stalled_request_body_is_closed(timeouts_srv):
    p = timeouts_srv
    s = attack_connect(p)
    try:
        s.sendall(build_request("POST", "/openai/v1/chat/completions", host(p),
                                {"Content-Type": "application/json", "Content-Length": "1000"}) + CHAT[:40])
        closed, took, got = wait_closed(s, BODY_TIMEOUT + 6)
        assert closed and took <= BODY_TIMEOUT + 2, \
            f"closed: {closed} after {took:.1f} s (body_timeout {BODY_TIMEOUT:g} s); received {got[:60]!r}"
        assert got == b"" or got.startswith(b"HTTP/1.1 408"), got[:200]
    finally:
        s.close()
    assert_alive(p, RSS_BOUND_MB)


def test_slowloris(timeouts_srv):
    """500 connections each dribbling a request head, one byte a second: health answers within
    1 s throughout, and the server closes them all within header_timeout + a few seconds."""
    p = timeouts_srv
    head = f"GET /_plumb/health HTTP/1.1\r\nHost: {host(p)}\r\nX-Slow: ".encode() + b"a" * 1000
    sel = selectors.DefaultSelector()
    socks = {}
    t0 = time.monotonic()
    try:
        for i in range(SLOWLORIS_CONNECTIONS):
            s = attack_connect(p, timeout=5)
            s.setblocking(False)
            socks[s] = None          # None: open; else the second it was closed
            sel.register(s, selectors.EVENT_READ)
        opened = time.monotonic() - t0
        deadline = time.monotonic() + HEADER_TIMEOUT + 4
        worst_health, sent = 0.0, 0
        while time.monotonic() < deadline and any(v is None for v in socks.values()):
            if sent < len(head):          # one byte a second on every open connection
                for s, closed in socks.items():
                    if closed is None:
                        try:
                            s.send(head[sent:sent + 1])
                        except OSError:
                            socks[s] = time.monotonic() - t0
                            sel.unregister(s)
                sent += 1
            status, took = health_check(p, timeout=3.0)
            worst_health = max(worst_health, took if status == 200 else 3.0)
            tick_end = time.monotonic() + max(0.0, 1.0 - took)
            while time.monotonic() < min(tick_end, deadline):
                for key, _ in sel.select(timeout=0.1):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        socks[s] = time.monotonic() - t0
                        sel.unregister(s)
        still_open = sum(1 for v in socks.values() if v is None)
        last_close = max((v for v in socks.values() if v is not None), default=0.0)
        seen = (f"{still_open} of {SLOWLORIS_CONNECTIONS} slow connections still open {time.monotonic() - t0:.1f} s "
                f"after the first (opened in {opened:.2f} s); slowest health during the attack {worst_health:.2f} s; "
                f"RSS peak {p.peak_kb / 1024:.0f} MB")
        print(seen)
        assert worst_health < 1.0, seen
        assert still_open == 0, seen
        assert last_close <= opened + HEADER_TIMEOUT + 4
    finally:
        sel.close()
        for s in socks:
            s.close()
    assert_alive(p, RSS_BOUND_MB)


def test_connection_cap(tmp_path, mock):
    with attack_server(tmp_path, mock, f'max_connections = {CONNECTION_CAP}\nheader_timeout = "30s"\n',
                       bound_mb=RSS_BOUND_MB) as p:
        socks, refused = [], 0
        sel = selectors.DefaultSelector()
        try:
            for _ in range(CAP_ATTEMPTS):
                try:
                    s = attack_connect(p, timeout=2)
                except OSError:
                    refused += 1
                    continue
                s.setblocking(False)
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
            closed = refused
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline and closed < CAP_ATTEMPTS - CONNECTION_CAP:
                for key, _ in sel.select(timeout=0.1):
                    try:
                        data = key.fileobj.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        closed += 1
                        sel.unregister(key.fileobj)
            assert closed >= CAP_ATTEMPTS - CONNECTION_CAP - 5, \
                f"{closed} of {CAP_ATTEMPTS} connections closed by the server within 1.5 s (cap {CONNECTION_CAP})"
        finally:
            sel.close()
            for s in socks:
                s.close()
        time.sleep(0.3)
        assert_alive(p, RSS_BOUND_MB)


# -- 5. the client key is checked before the body ----------------------------------------------

def keyed_head(p, length, key=None, expect=False, chunked=False):
    h = {"Content-Type": "application/json", "Authorization": "Bearer sk-attack"}
    if chunked:
        h["Transfer-Encoding"] = "chunked"
    else:
        h["Content-Length"] = str(length)
    if key is not None:
        h["Plumb-Client-Key"] = key
    if expect:
        h["Expect"] = "100-continue"
    return build_request("POST", "/openai/v1/chat/completions", host(p), h)


def test_valid_client_key_is_forwarded(keyed_srv):
    r = http_request(keyed_srv, "POST", "/openai/v1/chat/completions", body=CHAT,
                     headers={"Content-Type": "application/json", "Plumb-Client-Key": CLIENT_KEY})
    assert r.status == 200, r
    r = http_request(keyed_srv, "POST", "/openai/v1/chat/completions", body=CHAT, headers={"Content-Type": "application/json"})
    assert r.status == 401 and r.error_code() == "unauthorized", r
    assert_alive(keyed_srv, RSS_BOUND_MB)


def test_missing_client_key_is_refused_before_the_body(keyed_srv):
    s = attack_connect(keyed_srv)
    try:
        s.sendall(keyed_head(keyed_srv, 30_000_000))
        r, took = first_response(s, 3.0)
        assert r is not None and r.status == 401 and took < 1.0, f"{r} after {took:.2f} s (body never sent)"
        closed, _, _ = wait_closed(s, 2.0)
        assert closed, "the connection stayed open after the 401"
    finally:
        s.close()
    assert_alive(keyed_srv, RSS_BOUND_MB)


def test_expect_continue_without_client_key_gets_401_not_100(keyed_srv):
    s = attack_connect(keyed_srv)
    try:
        s.sendall(keyed_head(keyed_srv, 1000, expect=True))
        r, took = first_response(s, 3.0)
        assert r is not None and r.status == 401, f"first answer {r} after {took:.2f} s"
    finally:
        s.close()
    assert_alive(keyed_srv, RSS_BOUND_MB)


@pytest.mark.parametrize("expect", [True, False])
def test_content_length_over_the_limit_is_413_at_once(keyed_srv, expect):
    s = attack_connect(keyed_srv)
    try:
        s.sendall(keyed_head(keyed_srv, 2 * MAX_REQUEST_BYTES, key=CLIENT_KEY, expect=expect))
        r, took = first_response(s, 3.0)
        assert r is not None and r.status == 413 and took < 1.0, f"first answer {r} after {took:.2f} s (body never sent)"
        assert r.error_code() == "request_too_large", r
    finally:
        s.close()
    assert_alive(keyed_srv, RSS_BOUND_MB)


def stream_chunks(s, total, chunk=64 * 1024, pause=0.01, time_limit=2.0):
    """Sends a chunked body of up to `total` bytes, watching for the server's answer between
    chunks. Returns (whether the server answered or closed before the client was done, bytes
    sent by then, what the server sent, seconds)."""
    piece = b"%x\r\n" % chunk + b"0" * chunk + b"\r\n"
    sent, t = 0, time.monotonic()
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    try:
        while sent < total and time.monotonic() - t < time_limit:
            if sel.select(timeout=0):
                break
            try:
                s.sendall(piece)
            except OSError:
                break
            sent += chunk
            if pause:
                time.sleep(pause)
        took = time.monotonic() - t
        closed, _, got = wait_closed(s, 1.0)
        return (closed or bool(got)) and sent < total, sent, got, took
    finally:
        sel.close()


def test_chunked_body_over_the_limit_is_413_when_crossed(keyed_srv):
    s = attack_connect(keyed_srv)
    try:
        s.sendall(keyed_head(keyed_srv, 0, key=CLIENT_KEY, chunked=True))
        total = 4 << 20
        reacted, sent, got, took = stream_chunks(s, total, pause=0.01, time_limit=10)
        assert reacted, f"no answer while {sent >> 10} KiB of {total >> 20} MiB were sent ({took:.2f} s); got {got[:80]!r}"
        assert got == b"" or got.startswith(b"HTTP/1.1 413"), got[:200]
    finally:
        s.close()
    assert_alive(keyed_srv, RSS_BOUND_MB)


def test_empty_client_key_is_refused_at_startup(tmp_path, mock):
    rc, err = serve_refuses(tmp_path, mock, f'admin_token = "{ADMIN_TOKEN}"\nclient_keys = [""]\n', listen="0.0.0.0:0")
    assert rc not in (None, 0) and "client_keys" in err, f"exit {rc}; stderr: {err[-300:]}"


# -- 6. a 30 MiB JSON body ----------------------------------------------------------------------

@pytest.fixture()
def sink():
    """An upstream on 127.0.0.1 that reads and drops any body and answers a short event stream,
    so that only Plumb's own handling of a huge body is measured."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                got = self.rfile.read(min(left, 1 << 16))
                if not got:
                    break
                left -= len(got)
            body = (b'data: {"id":"x","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,'
                    b'"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_huge_json_body_keeps_memory_and_loop_free(tmp_path, mock, sink):
    head = b'{"model":"gpt-4o-mini","stream":true,"stream_options":{"x":1},"messages":['
    zeros = (30 << 20) // 2
    body = head + b"0," * zeros + b'0]}'
    config = f'max_request_bytes = 33554432\n[providers.sink]\nbase_url = "{sink}"\napi = "openai"\n'
    with attack_server(tmp_path, mock, config, bound_mb=RSS_BOUND_MB) as p:
        result = {}

        def post():
            try:
                s = attack_connect(p, timeout=60)
                s.sendall(build_request("POST", "/sink/v1/chat/completions", host(p),
                                        {"Content-Type": "application/json", "Connection": "close"}, body))
                result["response"] = HTTPReader(s).response(timeout=60, head_only=True)
                result["seconds"] = time.monotonic() - t
                s.close()
            except Exception as e:           # noqa: BLE001 - reported below
                result["error"] = repr(e)

        t = time.monotonic()
        worker = threading.Thread(target=post)
        worker.start()
        worst, probes = 0.0, 0
        while worker.is_alive() and time.monotonic() - t < 60:
            status, took = health_check(p, timeout=3.0)   # a new connection each time: every event loop gets probed
            worst = max(worst, took if status == 200 else 3.0)
            probes += 1
            time.sleep(0.1)
        worker.join(timeout=5)
        seen = (f"30 MiB body: answered {result['response'].status if 'response' in result else result.get('error')} "
                f"in {result.get('seconds', time.monotonic() - t):.1f} s; RSS peak {p.peak_kb / 1024:.0f} MB; "
                f"slowest of {probes} health probes {worst:.2f} s")
        print(seen)
        assert "response" in result, seen
        assert p.peak_kb / 1024 < RSS_BOUND_MB, seen
        assert worst < 1.0, seen


# -- 13. header and request-line limits ------------------------------------------------------------

@pytest.mark.parametrize("case", ["10000_headers", "100k_request_line", "10000_properties"])
def test_header_limits(plain_srv, case):
    p = plain_srv
    if case == "10000_headers":
        req = build_request("GET", "/openai/v1/models", host(p), {f"X-A{i}": "b" for i in range(10_000)})
        allowed = (431, 400)
    elif case == "100k_request_line":
        req = build_request("GET", "/openai/v1/models?" + "a" * 100_000, host(p))
        allowed = (414, 400, 431)
    else:
        req = build_request("POST", "/openai/v1/chat/completions", host(p),
                            {**{f"Plumb-Property-X{i}": "v" for i in range(10_000)}, "Content-Type": "application/json"}, CHAT)
        allowed = (431, 400)
    s = attack_connect(p)
    try:
        try:
            s.sendall(req)
        except OSError:
            pass
        r, took = first_response(s, 5.0)
        assert r is not None and r.status in allowed, f"{case}: {r} after {took:.2f} s"
        closed, _, _ = wait_closed(s, 2.0)
        assert closed, f"{case}: connection left open after {r.status}"
    finally:
        s.close()
    assert_alive(p, RSS_BOUND_MB)


# -- 14. smuggling and framing --------------------------------------------------------------------

def smuggle(p, raw, timeout=5.0):
    """Sends raw bytes; returns (responses read until the server closed, whether it closed)."""
    s = attack_connect(p)
    reader = HTTPReader(s)
    out = []
    try:
        s.sendall(raw)
        for _ in range(5):
            try:
                out.append(reader.response(timeout=timeout))
            except (ConnectionError, ConnectionResetError):
                return out, True
            except (TimeoutError, socket.timeout):
                return out, False
        return out, False
    finally:
        s.close()


def test_content_length_with_transfer_encoding_is_400(plain_srv):
    p = plain_srv
    smuggled = build_request("GET", "/_plumb/health", host(p))
    raw = (f"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {host(p)}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {5 + len(smuggled)}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").encode() + smuggled
    out, closed = smuggle(p, raw)
    assert [r.status for r in out] == [400] and closed, f"answers {out}, closed {closed}"
    assert_alive(p, RSS_BOUND_MB)


def test_two_different_content_lengths_is_400(plain_srv):
    p = plain_srv
    raw = (f"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {host(p)}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(CHAT)}\r\nContent-Length: 5\r\n\r\n").encode() + CHAT
    out, closed = smuggle(p, raw)
    assert out and out[0].status == 400 and len(out) == 1 and closed, f"answers {out}, closed {closed}"
    assert_alive(p, RSS_BOUND_MB)


def test_bad_chunk_size_is_400(plain_srv):
    p = plain_srv
    raw = (f"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {host(p)}\r\nContent-Type: application/json\r\n"
           f"Transfer-Encoding: chunked\r\n\r\nzz\r\n{CHAT.decode()}\r\n0\r\n\r\n").encode()
    out, closed = smuggle(p, raw)
    assert [r.status for r in out] == [400] and closed, f"answers {out}, closed {closed}"
    assert_alive(p, RSS_BOUND_MB)


def test_pipelined_garbage_after_a_valid_request(plain_srv):
    p = plain_srv
    raw = build_request("GET", "/_plumb/health", host(p)) + b"\x00\x01GARBAGE \xff\xfe nonsense\r\n\r\n"
    out, closed = smuggle(p, raw)
    assert [r.status for r in out] == [200, 400] and closed, f"answers {out}, closed {closed}"
    assert_alive(p, RSS_BOUND_MB)


def test_gigabyte_chunked_body_is_cut_short(plain_srv):
    p = plain_srv
    s = attack_connect(p)
    try:
        s.sendall(build_request("POST", "/openai/v1/chat/completions", host(p),
                                {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        reacted, sent, got, took = stream_chunks(s, 1 << 30, chunk=256 * 1024, pause=0, time_limit=2.0)
        seen = f"{sent >> 20} MiB sent in {took:.2f} s, answer {got[:40]!r}; RSS peak {p.peak_kb / 1024:.0f} MB"
        assert reacted, "no answer from the server: " + seen
        assert got == b"" or got.startswith(b"HTTP/1.1 413"), seen
        assert sent <= 64 * MAX_REQUEST_BYTES, f"the server read far past the {MAX_REQUEST_BYTES >> 20} MiB limit: " + seen
    finally:
        s.close()
    assert_alive(p, RSS_BOUND_MB)


# -- 15. a client that never reads -----------------------------------------------------------------

def test_client_that_never_reads_its_response(tmp_path):
    """Four clients ask for 100 MB responses (two streamed) and read nothing for 10 s. A private
    mock: it builds whole responses in memory and is slow to stop, so it is killed at the end."""
    mock_proc, mock_url = spawn([MOCK, "--listen", "127.0.0.1:0"])
    socks = []
    try:
        with attack_server(tmp_path, mock_url, bound_mb=RSS_BOUND_MB) as p:
            for stream in (True, False, True, False):
                s = attack_connect(p, timeout=5)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                body = json.dumps({"model": "gpt-4o-mini", "stream": stream,
                                   "messages": [{"role": "user", "content": "hello"}]}).encode()
                s.sendall(build_request("POST", "/openai/v1/chat/completions", host(p),
                                        {"Content-Type": "application/json", "X-Mock-Bytes": "100000000",
                                         "X-Mock-Output-Words": "3"}, body))
                socks.append(s)
            t = time.monotonic()
            worst = 0.0
            while time.monotonic() - t < 10:
                status, took = health_check(p, timeout=3.0)
                worst = max(worst, took if status == 200 else 3.0)
                time.sleep(0.5)
            seen = f"4 clients not reading for 10 s: RSS peak {p.peak_kb / 1024:.0f} MB, slowest health {worst:.2f} s"
            print(seen)
            assert p.peak_kb / 1024 < RSS_BOUND_MB, seen
            assert worst < 1.0, seen
            for s in socks:
                s.close()
            time.sleep(0.5)
    finally:
        for s in socks:
            s.close()
        stop(mock_proc, sig=9)
