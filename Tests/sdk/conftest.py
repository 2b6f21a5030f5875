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
