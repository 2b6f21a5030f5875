"""Streaming passthrough with backpressure: bytes reach the client as they arrive, and a 100 MB
response through a slow client leaves Plumb's memory flat."""
import hashlib
import json
import socket
import time

import httpx2 as httpx
import pytest

from conftest import start_plumb, stop

SIZE = 100_000_000


def rss_kb(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def stream_slowly(url, body, headers, pause_after=2_000_000, pause=2.0):
    """Reads a response through a raw socket: the first bytes, then a pause (the socket's buffers
    fill and the proxy must stop reading upstream), then the rest. Returns (head, body sha, size)."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    payload = json.dumps(body).encode()
    with socket.create_connection((host, int(port))) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        req = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n"
        req += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        s.sendall(req.encode() + payload)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        raw = bytearray(rest)
        paused = False
        peak = 0
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            raw += chunk
            if not paused and len(raw) > pause_after:
                paused = True
                time.sleep(pause)
        return head.decode(), bytes(raw)


def dechunk(raw):
    out, i = bytearray(), 0
    while True:
        j = raw.index(b"\r\n", i)
        n = int(raw[i:j].split(b";")[0], 16)
        if n == 0:
            return bytes(out)
        out += raw[j + 2:j + 2 + n]
        i = j + 2 + n + 2


@pytest.mark.parametrize("stream", [True, False])
def test_100mb_response_through_slow_client_with_flat_memory(tmp_path, mock, stream):
    p = start_plumb(tmp_path, mock)
    try:
        # Warm up, then note the resident size before the big response.
        httpx.post(f"{p.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []})
        before = rss_kb(p.proc.pid)
        peak = [before]
        body = {"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "big"}]}
        import threading
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(p.proc.pid))
                time.sleep(0.05)
        t = threading.Thread(target=sample); t.start()
        try:
            head, raw = stream_slowly(f"{p.url}/v1/chat/completions", body, {"X-Mock-Bytes": str(SIZE), "X-Mock-Output-Words": "3"})
        finally:
            done.set(); t.join()
        headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in head.split("\r\n")[1:])}
        data = dechunk(raw) if headers.get("transfer-encoding") == "chunked" else raw
        assert len(data) > SIZE
        if not stream:
            assert hashlib.sha256(data).hexdigest() == headers["x-mock-body-sha256"]
        grown_mb = (peak[0] - before) / 1024
        print(f"plumb RSS: {before / 1024:.0f} MB before, peak {peak[0] / 1024:.0f} MB while relaying {len(data) / 1e6:.0f} MB")
        assert grown_mb < 48, f"Plumb grew by {grown_mb:.0f} MB relaying a {SIZE // 1_000_000} MB response"
        span = p.span(headers["plumb-span-id"], timeout=20)
        assert span["response_bytes"] == len(data)
        assert span["output_tokens"] == 3 + (SIZE + 65535) // 65536       # usage read from the far end of the body
        assert len(span["response_body"].encode()) <= 1 << 20             # stored body capped at 1 MiB
    finally:
        stop(p.proc)


def test_first_bytes_arrive_before_the_stream_ends(shared_plumb):
    """Chunks are forwarded as they come: with 150 ms between chunks, the first one arrives long
    before the last."""
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    with httpx.stream("POST", f"{shared_plumb.url}/v1/chat/completions", json=body,
                      headers={"X-Mock-Chunk-Delay-Ms": "150", "X-Mock-Output-Words": "6"}) as r:
        t0 = time.monotonic()
        arrivals = []
        for chunk in r.iter_raw():
            arrivals.append(time.monotonic() - t0)
    assert len(arrivals) >= 4 and arrivals[-1] - arrivals[0] > 0.5
