"""curl against plumb serve for every failure path: each answer is an OpenAI-style JSON error
(or the upstream's own answer, passed through) and each call is still a span."""
import json
import re
import urllib.request
import socket
import subprocess
import time

import pytest

from conftest import serve_refuses, start_plumb, stop

CHAT = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}]})
STREAM = json.dumps({"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi there"}]})


def curl(url, *args, data=CHAT, timeout=30):
    """Runs curl; returns (status, headers dict, body bytes, curl exit code)."""
    cmd = ["curl", "-sS", "-N", "-D", "-", "-o", "-", "-X", "POST", "-H", "content-type: application/json",
           "-H", "Authorization: Bearer sk-fail-test", "--data-binary", data, *args, url]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return status, headers, body, p.returncode


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    return port


def error_code(body):
    return json.loads(body)["error"]["code"]


def test_unknown_provider_404(shared_plumb):
    status, h, body, _ = curl(f"{shared_plumb.url}/nosuch/v1/chat/completions")
    assert status == 404 and error_code(body) == "unknown_provider" and "nosuch" in json.loads(body)["error"]["message"]
    span = shared_plumb.span(h["plumb-span-id"])
    assert span["status"] == 404 and span["error_type"] == "unknown_provider" and span["provider"] == "nosuch"


def test_upstream_unreachable_502(tmp_path, mock):
    p = start_plumb(tmp_path, mock, f'[providers.dead]\nbase_url = "http://127.0.0.1:{free_port()}"\napi = "openai"\n')
    try:
        status, h, body, _ = curl(f"{p.url}/dead/v1/chat/completions")
        assert status == 502 and error_code(body) == "upstream_unreachable" and "refused" in body.decode()
        span = p.span(h["plumb-span-id"])
        assert span["error_type"] == "upstream_unreachable" and span["provider"] == "dead" and span["model_requested"] == "gpt-4o-mini"
    finally:
        stop(p.proc)


def test_upstream_timeout_504(tmp_path, mock):
    p = start_plumb(tmp_path, mock, 'upstream_timeout = "1s"\n')
    try:
        t = time.time()
        status, h, body, _ = curl(f"{p.url}/v1/chat/completions", "-H", "X-Mock-Fault: hang")
        assert status == 504 and error_code(body) == "upstream_timeout" and time.time() - t < 10
        assert p.span(h["plumb-span-id"])["error_type"] == "upstream_timeout"
    finally:
        stop(p.proc)


def test_request_too_large_413(tmp_path, mock):
    p = start_plumb(tmp_path, mock, "max_request_bytes = 1000\n")
    try:
        big = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 5000}]})
        status, h, body, _ = curl(f"{p.url}/v1/chat/completions", data=big)
        assert status == 413 and error_code(body) == "request_too_large" and "1000" in body.decode()
        span = p.span(h["plumb-span-id"])
        assert span["status"] == 413 and span["request_bytes"] == len(big)
    finally:
        stop(p.proc)


@pytest.mark.parametrize("fault,status,error_type", [("500", 500, "upstream_5xx"), ("429", 429, "rate_limited")])
def test_upstream_errors_pass_through(shared_plumb, fault, status, error_type):
    got, h, body, _ = curl(f"{shared_plumb.url}/v1/chat/completions", "-H", f"X-Mock-Fault: {fault}")
    assert got == status and "error" in json.loads(body)
    if fault == "429":
        assert h["retry-after"] == "1"
    span = shared_plumb.span(h["plumb-span-id"])
    assert span["status"] == status and span["error_type"] == error_type and "input_tokens" not in span


def test_upstream_reset_mid_stream(shared_plumb):
    status, h, body, rc = curl(f"{shared_plumb.url}/v1/chat/completions", "-H", "X-Mock-Fault: reset", data=STREAM)
    assert status == 200 and rc != 0            # the client sees a cut stream, not a clean end
    assert b"data: " in body and b"[DONE]" not in body
    span = shared_plumb.span(h["plumb-span-id"])
    assert span["error_type"] == "stream_reset" and span["stream"] is True


def test_client_disconnect_mid_stream(shared_plumb):
    cmd = ["curl", "-sS", "-N", "-D", "-", "--max-time", "0.5", "-H", "X-Mock-Chunk-Delay-Ms: 200",
           "-H", "X-Mock-Output-Words: 50", "--data-binary", STREAM, f"{shared_plumb.url}/v1/chat/completions"]
    out = subprocess.run(cmd, capture_output=True).stdout.decode(errors="replace")
    span_id = [l.split(":", 1)[1].strip() for l in out.split("\r\n") if l.lower().startswith("plumb-span-id")][0]
    span = shared_plumb.span(span_id, timeout=10)
    assert span["error_type"] == "client_cancelled" and span["status"] == 200


def test_malformed_json_passed_through(shared_plumb):
    status, h, body, rc = curl(f"{shared_plumb.url}/v1/chat/completions", "-H", "X-Mock-Fault: malformed")
    assert status == 200 and rc == 0
    with pytest.raises(ValueError):
        json.loads(body)
    span = shared_plumb.span(h["plumb-span-id"])
    assert span["status"] == 200 and "input_tokens" not in span and "error_type" not in span
    assert span["response_body"] == body.decode()


def test_malformed_event_in_stream_passed_through(shared_plumb):
    """A bad event is forwarded as it came; the usage chunk after it still counts."""
    status, h, body, rc = curl(f"{shared_plumb.url}/v1/chat/completions", "-H", "X-Mock-Fault: malformed", data=STREAM)
    assert status == 200 and rc == 0 and b'data: {"id": "broken", "choices": [\n\n' in body
    span = shared_plumb.span(h["plumb-span-id"])
    assert span["status"] == 200 and span["output_tokens"] == 12 and b'"usage"' not in body


def test_broken_sse_passed_through(shared_plumb):
    """A stream cut mid-event, without its usage chunk: passed on, recorded without usage."""
    status, h, body, rc = curl(f"{shared_plumb.url}/v1/chat/completions", "-H", "X-Mock-Fault: broken-sse", data=STREAM)
    assert status == 200 and rc == 0 and b"data: " in body and b"[DONE]" not in body
    span = shared_plumb.span(h["plumb-span-id"])
    assert span["status"] == 200 and "input_tokens" not in span


def test_slow_drip_arrives_whole(shared_plumb):
    status, h, body, rc = curl(f"{shared_plumb.url}/v1/chat/completions", "-H", "X-Mock-Fault: drip",
                               "-H", "X-Mock-Chunk-Delay-Ms: 1", "-H", "X-Mock-Output-Words: 3")
    assert status == 200 and json.loads(body)["usage"]["completion_tokens"] == 3
    assert shared_plumb.span(h["plumb-span-id"])["output_tokens"] == 3


def test_a_second_serve_on_the_same_port_is_refused(tmp_path, mock):
    """Each event loop listens on its own SO_REUSEPORT socket; a plain bind first keeps a second
    server from quietly sharing a port the first already holds."""
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = start_plumb(tmp_path / "first", mock)
    try:
        port = first.url.rsplit(":", 1)[1]
        rc, err = serve_refuses(tmp_path / "second", mock, "", listen=f"127.0.0.1:{port}")
        assert rc not in (None, 0), err
        assert f"cannot listen on 127.0.0.1:{port}" in err, err
        # The first still answers every call, on whichever of its sockets the kernel picks.
        for _ in range(20):
            with urllib.request.urlopen(f"{first.url}/_plumb/health") as r:
                assert r.status == 200
    finally:
        stop(first.proc)


def test_metrics_show_memory_by_part(shared_plumb):
    page = shared_plumb.metrics()
    parts = dict(re.findall(r'^plumb_memory_bytes\{part="(\w+)"\} (\d+)$', page, re.M))
    assert set(parts) == {"span_buffers", "page_cache", "recent_spans", "request_bodies",
                          "malloc_system", "malloc_in_use", "malloc_free"}, page
    n = {k: int(v) for k, v in parts.items()}
    assert n["page_cache"] <= 16 << 20 and n["recent_spans"] <= 32 << 20
    assert 0 < n["span_buffers"] <= 8 * (5 << 20), n      # 4 MiB blocks (+1 MiB room), two pooled
    assert 0 < n["malloc_in_use"] <= n["malloc_system"], n
