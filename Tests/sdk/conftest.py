"""Fixtures for the end-to-end proxy suites: the real `plumb serve` in front of the real
`plumb-mock`, both spawned from .build/debug, on ports the kernel picks."""
import hashlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PLUMB_BUILD_DIR", ROOT / ".build" / "debug"))
PLUMB = Path(os.environ.get("PLUMB_BINARY", BUILD / "plumb"))
MOCK = BUILD / "plumb-mock"
PRICING = json.loads((ROOT / "schemas" / "pricing.json").read_text())["providers"]


def spawn(args, env=None, ready=r"listening on (http://\S+)", timeout=30):
    """Starts a server, waits for its 'listening on URL' line, returns (process, url)."""
    proc = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(ready, line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not start: {proc.stderr.read()}")


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Plumb:
    """A running `plumb serve`: its URL, data directory, and helpers to read what it recorded."""

    def __init__(self, proc, url, data, config):
        self.proc, self.url, self.data, self.config = proc, url, data, config

    def span(self, span_id, timeout=5.0):
        """The recorded span, polling until it lands (it is recorded as the response ends)."""
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_plumb/spans/{span_id}") as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 404 or time.time() > deadline:
                    raise
            time.sleep(0.02)

    def metrics(self):
        with urllib.request.urlopen(f"{self.url}/_plumb/metrics") as r:
            return r.read().decode()


@pytest.fixture(scope="session")
def mock():
    proc, url = spawn([MOCK, "--listen", "127.0.0.1:0"])
    yield url
    stop(proc)


def write_config(path, mock_url, extra=""):
    text = "".join(f'[providers.{p}]\nbase_url = "{mock_url}"\n' for p in ("openai", "anthropic", "gemini", "mistral"))
    path.write_text(extra + text)   # top-level keys before the tables
    return path


def start_plumb(tmp_path, mock_url, extra_config="", env=None, data=None, listen="127.0.0.1:0"):
    data = data or tmp_path / "data"
    config = write_config(tmp_path / "plumb.toml", mock_url, extra_config)
    proc, url = spawn([PLUMB, "serve", "--config", config, "--data", data, "--listen", listen], env=env)
    return Plumb(proc, url, data, config)


@pytest.fixture()
def plumb(tmp_path, mock):
    p = start_plumb(tmp_path, mock)
    yield p
    stop(p.proc)


@pytest.fixture(scope="module")
def shared_plumb(tmp_path_factory, mock):
    p = start_plumb(tmp_path_factory.mktemp("shared"), mock)
    yield p
    stop(p.proc)


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def expected_cost(provider, model, inp, out, cache_read=0, cache_write=0):
    """DESIGN.md's formula over schemas/pricing.json; inp counts cached tokens too."""
    price = PRICING[provider][model]
    uncached = inp - cache_read - cache_write
    return (uncached * price["input"] + cache_read * price.get("cache_read", price["input"])
            + cache_write * price.get("cache_write", price["input"]) + out * price["output"])


# ---------------------------------------------------------------------------------------------
# Attack suite (Tests/sdk/test_attack_*.py): a hostile client against the real `plumb serve`.
# Raw sockets to 127.0.0.1 only, every socket with a timeout, every loop bounded.
# ---------------------------------------------------------------------------------------------
import contextlib
import select
import socket
import tempfile
import threading

ATTACK_RSS_BOUND_MB = 300
ATTACK_PEAK_FILE = Path("/tmp/attack-peak-rss.txt")
_attack_peak = {"kb": 0, "where": "", "pid": 0}
_attack_peak_lock = threading.Lock()
_attack_servers = 0


def rss_kb_of(pid):
    """VmRSS of a process in kB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _note_rss(kb, pid):
    with _attack_peak_lock:
        if kb > _attack_peak["kb"]:
            _attack_peak.update(kb=kb, pid=pid, where=os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0])


def _strip_new_keys(extra_config):
    """PLUMB_ATTACK_STRIP_KEYS=key1,key2 drops those top-level keys from a test's config: only to
    observe what an older binary, which refuses keys it does not know, does under the attack."""
    keys = [k.strip() for k in os.environ.get("PLUMB_ATTACK_STRIP_KEYS", "").split(",") if k.strip()]
    if not keys:
        return extra_config
    return "".join(l for l in extra_config.splitlines(keepends=True)
                   if not re.match(r"\s*(" + "|".join(map(re.escape, keys)) + r")\s*=", l))


class AttackPlumb(Plumb):
    """A `plumb serve` under attack: address (always reached on 127.0.0.1), admin token, its
    stderr (drained in the background so that it can never block the server), and a sampler
    that follows its resident memory every 50 ms."""

    def __init__(self, proc, url, data, config, admin_token=None):
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        super().__init__(proc, f"http://127.0.0.1:{port}", data, config)
        self.host, self.port, self.admin_token = "127.0.0.1", port, admin_token
        self.stderr_lines, self.peak_kb = [], 0
        threading.Thread(target=self._drain, args=(proc.stderr, self.stderr_lines), daemon=True).start()
        threading.Thread(target=self._drain, args=(proc.stdout, []), daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def _drain(stream, into):
        for line in stream:
            if len(into) < 10_000:
                into.append(line)

    def _sample(self):
        while self.proc.poll() is None:
            kb = rss_kb_of(self.proc.pid)
            self.peak_kb = max(self.peak_kb, kb)
            _note_rss(kb, self.proc.pid)
            time.sleep(0.05)

    def rss_mb(self):
        kb = rss_kb_of(self.proc.pid)
        self.peak_kb = max(self.peak_kb, kb)
        _note_rss(kb, self.proc.pid)
        return kb / 1024

    def admin_headers(self):
        return {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}

    def stderr_text(self):
        return "".join(self.stderr_lines)

    def metrics(self):
        # keep-alive: a `Connection: close` answer this large could be cut (see the attack suite)
        r = http_request(self, "GET", "/_plumb/metrics", headers={"Connection": "keep-alive", **self.admin_headers()},
                         timeout=20)
        assert r.status == 200, f"/_plumb/metrics answered {r.status}"
        return r.body.decode()


def spawn_attack(args, env=None, preexec_fn=None, timeout=30):
    """Like spawn, with an optional preexec_fn (e.g. a umask); returns (process, url)."""
    proc = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"{args[0]} did not start (exit {proc.returncode}): {proc.stderr.read()[-2000:]}")


def _attack_dir(tmp_path):
    global _attack_servers
    _attack_servers += 1
    return Path(tempfile.mkdtemp(prefix=f"srv{_attack_servers}-", dir=tmp_path))


def start_attack(tmp_path, mock_url, extra_config="", listen="127.0.0.1:0", admin_token=None, umask=None,
                 data=None, env=None, args=()):
    """`plumb serve` for an attack: config keys in extra_config go at the top of the file;
    admin_token is written to the config and sent by the helpers; umask (e.g. 0o022) is set in
    the child before exec."""
    d = _attack_dir(tmp_path)
    if admin_token is not None:
        extra_config = f'admin_token = "{admin_token}"\n' + extra_config
    config = write_config(d / "plumb.toml", mock_url, _strip_new_keys(extra_config))
    data = data or d / "data"
    pre = (lambda: os.umask(umask)) if umask is not None else None
    proc, url = spawn_attack([PLUMB, "serve", "--config", config, "--data", data, "--listen", listen, *args],
                             env=env, preexec_fn=pre)
    return AttackPlumb(proc, url, data, config, admin_token)


def _network_isolation_prefix():
    """`unshare -n` when this machine allows it: a server that should refuse to start, but might
    resolve a name first, then cannot send a packet anywhere."""
    try:
        if subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0:
            return ["unshare", "-n"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return []


def serve_refuses(tmp_path, mock_url, extra_config, listen="127.0.0.1:0", data=None, timeout=15, isolate_network=False):
    """Runs `plumb serve` with a config it should refuse. Returns (exit code, stderr); the exit
    code is None when it started listening instead (it is then stopped)."""
    d = _attack_dir(tmp_path)
    config = write_config(d / "plumb.toml", mock_url, extra_config)
    args = [PLUMB, "serve", "--config", config, "--data", data or d / "data"]
    if listen is not None:
        args += ["--listen", listen]
    prefix = _network_isolation_prefix() if isolate_network else []
    proc = subprocess.Popen(prefix + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = []
    threading.Thread(target=AttackPlumb._drain, args=(proc.stderr, err), daemon=True).start()
    deadline = time.time() + timeout
    started = False
    while time.time() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.1)
        if r:
            line = proc.stdout.readline()
            if "listening on" in line:
                started = True
                break
            if not line and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    if started or proc.poll() is None:
        stop(proc, sig=signal.SIGKILL)      # it should not have started: no clean stop needed
        time.sleep(0.1)
        return None, "".join(err)
    proc.wait(timeout=5)
    time.sleep(0.1)   # let the drain thread take the last lines
    return proc.returncode, "".join(err)


class RawResponse:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status, self.reason, self.headers, self.body, self.raw_head = status, reason, headers, body, raw_head

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def error_code(self):
        try:
            return json.loads(self.body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.body[:300]!r}>"


class HTTPReader:
    """Reads HTTP/1.1 responses from a socket (which has a timeout), keeping what is left over."""

    def __init__(self, sock):
        self.sock, self.buf, self.eof = sock, b"", False

    def _fill(self, deadline):
        if self.eof:
            raise ConnectionError("closed by the server")
        if time.monotonic() > deadline:
            raise TimeoutError("no complete response in time")
        self.sock.settimeout(max(0.01, min(deadline - time.monotonic(), 30)))
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            self.eof = True
            raise ConnectionError("closed by the server")
        self.buf += chunk

    def response(self, timeout=10.0, max_body=64 << 20, head_only=False):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ValueError("response head over 1 MiB")
            self._fill(deadline)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status, reason = int(parts[1]), (parts[2] if len(parts) > 2 else "")
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        if head_only or 100 <= status < 200 or status in (204, 304):
            return RawResponse(status, reason, headers, b"", head)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill(deadline)
                size_line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill(deadline)
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0 or len(body) > max_body:
                    return RawResponse(status, reason, headers, body, head)
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < min(n, max_body):
                self._fill(deadline)
            body, self.buf = self.buf[:n], self.buf[n:]
            return RawResponse(status, reason, headers, body, head)
        while len(self.buf) < max_body:   # until the server closes
            try:
                self._fill(deadline)
            except ConnectionError:
                break
        body, self.buf = self.buf, b""
        return RawResponse(status, reason, headers, body, head)


def attack_connect(p, timeout=5.0, source=None, host=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((host or p.host, p.port))
    return s


def build_request(method, path, host_header, headers=None, body=None, http_version="HTTP/1.1"):
    """Request bytes; Content-Length is added for a bytes body unless headers name one already
    (or Transfer-Encoding)."""
    headers = dict(headers or {})
    lines = [f"{method} {path} {http_version}"]
    if host_header is not None and not any(k.lower() == "host" for k in headers):
        lines.append(f"Host: {host_header}")
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
        headers["Content-Length"] = str(len(body))
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def http_request(p, method, path, headers=None, body=None, timeout=10.0, host_header=None, source=None):
    """One request on a fresh connection (Connection: close); returns a RawResponse."""
    if isinstance(body, str):
        body = body.encode()
    h = {"Connection": "close", **(headers or {})}
    s = attack_connect(p, timeout=timeout, source=source)
    try:
        s.sendall(build_request(method, path, host_header or f"127.0.0.1:{p.port}", h, body))
        return HTTPReader(s).response(timeout=timeout)
    finally:
        s.close()


def health_check(p, timeout=2.0):
    """(status or None, seconds) of one GET /_plumb/health on a fresh connection."""
    t = time.monotonic()
    try:
        r = http_request(p, "GET", "/_plumb/health", headers=p.admin_headers(), timeout=timeout)
        return r.status, time.monotonic() - t
    except (OSError, ValueError):
        return None, time.monotonic() - t


def assert_alive(p, bound_mb=ATTACK_RSS_BOUND_MB, timeout=2.0):
    """The server still runs, answers GET /_plumb/health with 200 within `timeout`, and its
    resident memory is under `bound_mb`. Returns (health seconds, RSS MB)."""
    rc = p.proc.poll()
    assert rc is None, f"plumb serve is gone (exit {rc}); stderr tail: {p.stderr_text()[-600:]}"
    status, took = health_check(p, timeout)
    assert status == 200, f"/_plumb/health answered {status} after {took:.2f} s"
    rss = p.rss_mb()
    assert rss < bound_mb, f"plumb serve resident memory {rss:.0f} MB, over the {bound_mb} MB bound"
    return took, rss


def stop_and_verify(p):
    """SIGTERM, then `plumb verify --data DIR` must exit 0."""
    rc = stop(p.proc)
    assert rc == 0, f"plumb serve exited {rc} on SIGTERM; stderr tail: {p.stderr_text()[-600:]}"
    v = subprocess.run([str(PLUMB), "verify", "--data", str(p.data)], capture_output=True, text=True, timeout=120)
    assert v.returncode == 0, f"plumb verify failed ({v.returncode}): {v.stdout[-800:]} {v.stderr[-800:]}"
    return v.stdout


@contextlib.contextmanager
def attack_server(tmp_path, mock_url, extra_config="", bound_mb=ATTACK_RSS_BOUND_MB, **kw):
    """A server for one test: on a clean exit the server must be alive and under the RSS bound,
    stop on SIGTERM with status 0 and pass `plumb verify`; on a failure it is just stopped."""
    p = start_attack(tmp_path, mock_url, extra_config, **kw)
    ok = False
    try:
        yield p
        ok = True
    finally:
        if ok:
            try:
                assert_alive(p, bound_mb)
            except AssertionError:
                stop(p.proc)
                raise
            stop_and_verify(p)
        else:
            stop(p.proc)


def wait_closed(sock, timeout):
    """Waits for the server to close `sock` (EOF or reset), discarding what it sends.
    Returns (closed, seconds waited, bytes received)."""
    t = time.monotonic()
    got = b""
    while time.monotonic() - t < timeout:
        sock.settimeout(max(0.01, timeout - (time.monotonic() - t)))
        try:
            chunk = sock.recv(1 << 16)
        except socket.timeout:
            break
        except OSError:
            return True, time.monotonic() - t, got
        if not chunk:
            return True, time.monotonic() - t, got
        if len(got) < 1 << 20:
            got += chunk
    return False, time.monotonic() - t, got


def pipeline(p, requests, batch=50, timeout=30.0):
    """Sends requests (bytes) on keep-alive connections, `batch` at a time, reading every
    response; returns the RawResponses (a new connection is opened if the server closes one)."""
    out = []
    deadline = time.monotonic() + timeout
    i = 0
    while i < len(requests):
        assert time.monotonic() < deadline, f"pipelining took over {timeout} s ({i} of {len(requests)} answered)"
        s = attack_connect(p, timeout=timeout)
        reader = HTTPReader(s)
        try:
            while i < len(requests):
                part = requests[i:i + batch]
                s.sendall(b"".join(part))
                for _ in part:
                    out.append(reader.response(timeout=max(1.0, deadline - time.monotonic())))
                    i += 1
                    if out[-1].header("connection") == "close":
                        break
                else:
                    continue
                break
        finally:
            s.close()
    return out


@pytest.fixture(scope="session")
def attack_peak_rss():
    """Writes the highest resident memory seen of any attacked `plumb serve` to
    /tmp/attack-peak-rss.txt (and prints it) when the session ends."""
    yield _attack_peak
    if _attack_peak["kb"]:
        text = f"peak RSS of plumb serve during the attack suite: {_attack_peak['kb'] / 1024:.1f} MB ({_attack_peak['where']})\n"
        ATTACK_PEAK_FILE.write_text(text)
        print("\n" + text)


# --- exporters' suites (test_export_*.py) ------------------------------------------------------

def post_json(p, path, body, headers=None, timeout=30):
    """POSTs JSON through a running serve; (span id, status, body bytes), errors included."""
    req = urllib.request.Request(p.url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.headers.get("plumb-span-id"), r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.headers.get("plumb-span-id"), e.code, e.read()


def plumb_health(p):
    with urllib.request.urlopen(p.url + "/_plumb/health", timeout=10) as r:
        return json.loads(r.read())


def wait_for(what, cond, timeout=30):
    """Polls cond until it is truthy (returned) or fails after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
