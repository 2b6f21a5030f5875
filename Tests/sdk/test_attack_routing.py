"""Where `plumb serve` forwards under attack: dot segments that would climb out of a provider's
base path, the built-in local provider (ollama) from non-loopback clients, a listen name that
only looks like loopback, and a base_url carrying CR/LF. A recording upstream behind a provider
with a path prefix shows that refused requests never leave Plumb. After every case the server
answers /_plumb/health, stays under RSS_BOUND_MB resident, and `plumb verify` passes."""
import json
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import (assert_alive, attack_connect, attack_server, build_request, http_request, HTTPReader,
                      serve_refuses, start_attack, stop_and_verify)

pytestmark = pytest.mark.usefixtures("attack_peak_rss")

RSS_BOUND_MB = 300
ADMIN_TOKEN = "t0ken"
OLLAMA_PORT = 11434

DOT_SEGMENT_PATHS = [
    "/openai/../x", "/v1/../../x", "/openai/%2e%2e/x", "/openai/.%2e/x", "/openai/%2E%2E/x",
    "/openai/..;/x", "/openai/..\\x", "/openai/a/%2f../x",
    # the same against a provider whose base URL has a path prefix, behind a recording upstream
    "/rec/../x", "/rec/a/../../x", "/rec/%2e%2e/x", "/rec/.%2e/x", "/rec/%2E%2e/x", "/rec/..;/x", "/rec/..\\x",
    "/rec/a/%2f../x", "/rec/v1/%2e%2e/%2e%2e/x",
    # found in review: a fragment, an encoded tab, overlong UTF-8 dots
    "/rec/v1/..#", "/rec/..%09/x", "/rec/%c0%ae%c0%ae/x",
]


@pytest.fixture(scope="module")
def recorder():
    """A plain upstream on 127.0.0.1 that answers 200 and remembers every request target."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            seen.append(self.path)
            body = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 5
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def routed(tmp_path_factory, mock, recorder, attack_peak_rss):
    port, _ = recorder
    config = f'[providers.rec]\nbase_url = "http://127.0.0.1:{port}/prefix"\napi = "passthrough"\n'
    p = start_attack(tmp_path_factory.mktemp("routing"), mock, config)
    yield p
    stop_and_verify(p)


def raw_get(p, path, source=None, dest=None, headers=None):
    s = attack_connect(p, timeout=10, source=source, host=dest)
    try:
        s.sendall(build_request("GET", path, f"{dest or '127.0.0.1'}:{p.port}", {"Connection": "close", **(headers or {})}))
        return HTTPReader(s).response(timeout=10)
    finally:
        s.close()


# -- 11. dot segments --------------------------------------------------------------------------

def test_the_recording_upstream_sees_a_normal_request(routed, recorder):
    _, seen = recorder
    r = raw_get(routed, "/rec/v1/ok")
    assert r.status == 200 and "/prefix/v1/ok" in seen, (r, seen[-3:])
    assert_alive(routed, RSS_BOUND_MB)


@pytest.mark.parametrize("path", DOT_SEGMENT_PATHS)
def test_dot_segments_are_refused(routed, recorder, path):
    _, seen = recorder
    before = len(seen)
    r = raw_get(routed, path)
    leaked = seen[before:]
    assert r.status == 400 and r.error_code() == "invalid_path", f"{path} -> {r}; upstream saw {leaked}"
    assert not leaked, f"{path} reached the upstream as {leaked}"
    assert_alive(routed, RSS_BOUND_MB)


# -- 7. the built-in local provider ---------------------------------------------------------------

def non_loopback_address():
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def wide(tmp_path_factory, mock, attack_peak_rss):
    p = start_attack(tmp_path_factory.mktemp("wide"), mock, listen="0.0.0.0:0", admin_token=ADMIN_TOKEN)
    yield p
    stop_and_verify(p)


def test_local_provider_is_reachable_from_loopback(wide):
    r = raw_get(wide, "/ollama/api/tags")
    assert r.status != 403, r
    if not port_open(OLLAMA_PORT):
        assert r.status == 502 and r.error_code() == "upstream_unreachable", r
    assert_alive(wide, RSS_BOUND_MB)


def test_local_provider_is_refused_to_a_non_loopback_client(wide):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    try:
        r = raw_get(wide, "/ollama/api/tags", source=addr, dest=addr)
    except OSError as e:
        pytest.skip(f"cannot connect from {addr} to {addr}: {e}")
    assert r.status == 403 and r.error_code() == "local_provider", f"from {addr}: {r}"
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).encode()
    s = attack_connect(wide, timeout=10, source=addr, host=addr)
    try:      # a remote provider stays reachable from the same client
        s.sendall(build_request("POST", "/openai/v1/chat/completions", f"{addr}:{wide.port}",
                                {"Connection": "close", "Content-Type": "application/json"}, body))
        r = HTTPReader(s).response(timeout=10)
    finally:
        s.close()
    assert r.status == 200, r
    assert_alive(wide, RSS_BOUND_MB)


# -- 8. a listen name that is not loopback -------------------------------------------------------

def test_listen_on_a_name_that_looks_like_loopback_needs_admin_token(tmp_path, mock):
    rc, err = serve_refuses(tmp_path, mock, 'listen = "127.corp.example:8787"\n', listen=None, isolate_network=True)
    assert rc not in (None, 0) and "admin_token" in err, f"exit {rc}; stderr: {err[-300:]}"


# -- 17. base_url with CR/LF ---------------------------------------------------------------------

@pytest.mark.parametrize("injected", ["\\r\\nX-Evil: 1", "\\nX-Evil: 1", "\\rX-Evil: 1", "\\u0000x"])
def test_base_url_with_control_characters_is_refused(tmp_path, mock, injected):
    config = f'[providers.x]\nbase_url = "http://127.0.0.1:1/a{injected}"\n'
    rc, err = serve_refuses(tmp_path, mock, config)
    assert rc not in (None, 0) and "base_url" in err and ("'x'" in err or "providers.x" in err or '"x"' in err
                                                          or " x " in err or " x:" in err), \
        f"exit {rc}; stderr: {err[-300:]}"
