"""Headers, secrets, body storage and the no-open-proxy rule, with curl and plain HTTP."""
import json
import os
import socket
import stat
import subprocess
import time

import httpx2 as httpx
import pytest

from conftest import start_plumb, stop

SECRET = "sk-live-DO-NOT-STORE-9f8e7d6c5b4a"


def echo(plumb, headers, path="/openai/_mock/echo?x=1"):
    r = httpx.post(f"{plumb.url}{path}", content=b'{"model":"m"}', headers=headers)
    assert r.status_code == 200, r.text
    return r, r.json()


def test_plumb_and_helicone_headers_read_and_stripped(shared_plumb):
    r, seen = echo(shared_plumb, {
        "Plumb-Session-Id": "sess-1", "Helicone-User-Id": "user-7", "Plumb-Property-Team": "infra",
        "Helicone-Property-Feature": "search", "Plumb-Omit-Bodies": "false", "Helicone-Auth": "Bearer hk",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "X-Custom": "kept", "Authorization": f"Bearer {SECRET}",
    })
    forwarded = seen["headers"]
    assert not [h for h in forwarded if h.startswith(("plumb-", "helicone-"))] and "traceparent" not in forwarded
    assert forwarded["x-custom"] == "kept" and forwarded["authorization"] == f"Bearer {SECRET}"   # the key is forwarded
    assert seen["path"] == "/_mock/echo" and seen["query"] == "x=1"
    span = shared_plumb.span(r.headers["plumb-span-id"])
    assert span["session_id"] == "sess-1" and span["user_id"] == "user-7"
    assert span["properties"] == {"team": "infra", "feature": "search"}
    assert span["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and span["parent_span_id"] == "00f067aa0ba902b7"
    assert span["operation"] == "other" and len(r.headers["plumb-span-id"]) == 32


def test_invalid_traceparent_ignored(shared_plumb):
    r, _ = echo(shared_plumb, {"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"})
    assert "trace_id" not in shared_plumb.span(r.headers["plumb-span-id"])


def test_secrets_never_reach_the_disk(tmp_path, mock):
    p = start_plumb(tmp_path, mock)
    try:
        ids = []
        for hdr in ({"Authorization": f"Bearer {SECRET}"}, {"x-api-key": SECRET}, {"x-goog-api-key": SECRET}):
            r = httpx.post(f"{p.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []}, headers=hdr)
            ids.append(r.headers["plumb-span-id"])
        r = httpx.post(f"{p.url}/gemini/v1beta/models/gemini-2.5-flash:generateContent?key={SECRET}", json={"contents": []})
        ids.append(r.headers["plumb-span-id"])
        hashes = {p.span(i)["api_key_hash"] for i in ids}
        assert len(hashes) == 1 and len(hashes.pop()) == 16      # one key, one fingerprint, wherever it was sent
    finally:
        stop(p.proc)
    found = subprocess.run(["grep", "-r", "-l", "-a", "DO-NOT-STORE", str(p.data)], capture_output=True, text=True)
    assert found.stdout == "", f"the key reached the disk in: {found.stdout}"
    secret = p.data / "installation.secret"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    # A fingerprint is per installation: another data directory gives another hash.
    q = start_plumb(tmp_path / "other", mock) if (tmp_path / "other").mkdir() is None else None
    try:
        r = httpx.post(f"{q.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []}, headers={"Authorization": f"Bearer {SECRET}"})
        assert q.span(r.headers["plumb-span-id"])["api_key_hash"] not in hashes
    finally:
        stop(q.proc)


def test_body_cap_and_omit(tmp_path, mock):
    p = start_plumb(tmp_path, mock, "max_body_bytes = 200\n")
    try:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "é" * 300}]}
        r = httpx.post(f"{p.url}/v1/chat/completions", json=body)
        span = p.span(r.headers["plumb-span-id"])
        stored = span["request_body"].encode()
        # Cut at the cap, on a UTF-8 boundary (é is two bytes), never past it.
        assert 198 <= len(stored) <= 200 and r.request.content.startswith(stored)
        assert span["properties"]["plumb.request_body_truncated"] == "true"
        assert span["properties"]["plumb.response_body_truncated"] == "true"
        assert span["request_bytes"] == len(r.request.content)          # sizes stay exact
        r = httpx.post(f"{p.url}/v1/chat/completions", json=body, headers={"Plumb-Omit-Bodies": "true"})
        span = p.span(r.headers["plumb-span-id"])
        assert "request_body" not in span and "response_body" not in span and span["output_tokens"] == 12
    finally:
        stop(p.proc)
    q = start_plumb(tmp_path / "nobodies", mock, "store_bodies = false\n") if (tmp_path / "nobodies").mkdir() is None else None
    try:
        r = httpx.post(f"{q.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []})
        assert "response_body" not in q.span(r.headers["plumb-span-id"])
    finally:
        stop(q.proc)


def raw_request(url, text):
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(text.encode())
        s.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ")[1])


def test_absolute_form_target_goes_to_the_configured_provider_only(shared_plumb):
    """A client using Plumb as a forward proxy (absolute-form target) cannot pick the host: the
    host part is ignored and the configured upstream answers."""
    host, port = shared_plumb.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"POST http://example.com/openai/_mock/echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and json.loads(data.split(b"\r\n\r\n", 1)[1])["path"] == "/_mock/echo"


@pytest.mark.parametrize("target,host,expected", [
    ("//example.com/v1/x", "example.com", 404),
    ("/openai@example.com/v1/x", "127.0.0.1", 404),
    ("/openai/../../etc/passwd", "127.0.0.1", 400),      # a dot segment: invalid_path
    ("/example.com/v1/x", "example.com", 404),
])
def test_never_an_open_proxy(shared_plumb, target, host, expected):
    status = raw_request(shared_plumb.url, f"GET {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n")
    assert status == expected


def test_host_header_cannot_redirect(shared_plumb):
    r, seen = echo(shared_plumb, {"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert seen["path"] == "/_mock/echo"        # still the configured upstream (the mock) answered


def test_refuses_non_loopback_without_admin_token(tmp_path, mock):
    from conftest import PLUMB, write_config
    config = write_config(tmp_path / "p.toml", mock)
    p = subprocess.run([str(PLUMB), "serve", "--config", str(config), "--data", str(tmp_path / "d"), "--listen", "0.0.0.0:0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "admin_token" in p.stderr and p.stderr.startswith("plumb: error:")


def test_admin_token_and_client_keys_beyond_loopback(tmp_path, mock):
    p = start_plumb(tmp_path, mock, 'admin_token = "adm-123"\nclient_keys = ["ck-1"]\n', listen="0.0.0.0:0")
    try:
        url = p.url.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(f"{url}/_plumb/health").status_code == 401
        assert httpx.get(f"{url}/_plumb/health", headers={"Authorization": "Bearer adm-123"}).status_code == 200
        body = {"model": "gpt-4o-mini", "messages": []}
        assert httpx.post(f"{url}/v1/chat/completions", json=body).status_code == 401
        assert httpx.post(f"{url}/v1/chat/completions", json=body, headers={"Plumb-Client-Key": "ck-1"}).status_code == 200
    finally:
        stop(p.proc)


def test_health_metrics_and_span_lookup_after_restart(tmp_path, mock):
    p = start_plumb(tmp_path, mock)
    r = httpx.post(f"{p.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a b c"}]})
    span_id = r.headers["plumb-span-id"]
    p.span(span_id)
    assert httpx.get(f"{p.url}/_plumb/health").json()["status"] == "ok"
    metrics = p.metrics()
    assert 'plumb_requests_total{provider="openai",model="gpt-4o-mini",status="200"} 1' in metrics
    assert 'plumb_tokens_total{provider="openai",model="gpt-4o-mini",type="output"} 12' in metrics
    assert "gen_ai_client_operation_duration_seconds_bucket" in metrics and "plumb_spans_written_total 1" in metrics
    assert stop(p.proc) == 0
    q = start_plumb(tmp_path, mock, data=p.data)
    try:
        span = q.span(span_id)          # now read from the published segment
        assert span["output_tokens"] == 12 and span["response_body"] == r.text
        assert httpx.get(f"{q.url}/_plumb/spans/{'0' * 32}").status_code == 404
        assert httpx.get(f"{q.url}/_plumb/spans/nothex").status_code == 400
    finally:
        stop(q.proc)


def test_config_added_provider_default_provider_and_price_override(tmp_path, mock):
    """A provider added in the config (any OpenAI-compatible server), made the default for /v1,
    with its models priced by [pricing.NAME]; an unpriced model stays at a null cost."""
    extra = ('default_provider = "local"\n'
             f'[providers.local]\nbase_url = "{mock}"\napi = "openai"\n'
             '[pricing.local]\n"llama3.1:70b" = { input = 2e-7, output = 4e-7 }\n')
    p = start_plumb(tmp_path, mock, extra)
    try:
        body = {"model": "llama3.1:70b", "messages": [{"role": "user", "content": "one two three"}]}
        r = httpx.post(f"{p.url}/v1/chat/completions", json=body)
        u = r.json()["usage"]
        span = p.span(r.headers["plumb-span-id"])
        assert span["provider"] == "local" and span["model"] == "llama3.1:70b"
        assert span["cost_usd"] == pytest.approx(u["prompt_tokens"] * 2e-7 + u["completion_tokens"] * 4e-7, rel=1e-12)
        r = httpx.post(f"{p.url}/local/v1/chat/completions", json={**body, "model": "other-model"})
        assert "cost_usd" not in p.span(r.headers["plumb-span-id"])
    finally:
        stop(p.proc)
    bad = tmp_path / "bad"
    bad.mkdir()
    from conftest import PLUMB, write_config
    config = write_config(bad / "p.toml", mock, '[pricing.local]\n"m" = { input = 1e-7 }\n')
    r = subprocess.run([str(PLUMB), "serve", "--config", str(config), "--data", str(bad / "d"), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr.startswith("plumb: error:") and "needs both input and output" in r.stderr


def read_responses(sock, count, timeout=10):
    """`count` HTTP/1.1 responses with Content-Length bodies, in the order they arrive."""
    sock.settimeout(timeout)
    data, out = b"", []
    while len(out) < count:
        if b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
            if headers.get("transfer-encoding") == "chunked":
                raise AssertionError("expected Content-Length responses")
            n = int(headers.get("content-length", "0"))
            if int(lines[0].split(" ")[1]) == 100:     # an interim 100 Continue: no body
                out.append((100, headers, b""))
                data = rest
                continue
            if len(rest) >= n:
                out.append((int(lines[0].split(" ")[1]), headers, rest[:n]))
                data = rest[n:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return out


def test_pipelined_requests_are_answered_in_order(shared_plumb):
    """Requests sent back to back on one connection are answered in the order sent, also when the
    first is slow and one is Plumb's own endpoint; 'Connection: close' on the last ends it."""
    host, port = shared_plumb.url.split("//")[1].split(":")
    chat = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    def request(path, extra="", body=""):
        return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n{body}")
    text = (request("/v1/chat/completions", "X-Mock-Latency-Ms: 300\r\nX-Mock-Seed: 1\r\n", chat)
            + "GET /_plumb/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            + request("/openai/_mock/echo?n=3", body='{"n":3}')
            + request("/v1/chat/completions", "X-Mock-Seed: 4\r\nConnection: close\r\n", chat))
    with socket.create_connection((host, int(port))) as s:
        s.sendall(text.encode())
        responses = read_responses(s, 4)
        assert s.recv(1) == b""                       # closed after the last, as asked
    assert [r[0] for r in responses] == [200, 200, 200, 200]
    first, health, echoed, last = responses
    assert json.loads(first[2])["id"].endswith("1") and "plumb-span-id" in first[1]
    assert b"ok" in health[2].lower()
    assert json.loads(echoed[2])["query"] == "n=3"
    assert json.loads(last[2])["id"].endswith("4") and last[1].get("connection") == "close"
    spans = [shared_plumb.span(r[1]["plumb-span-id"]) for r in (first, echoed, last)]
    assert spans[0]["latency_ms"] >= 300 and spans[0]["ts_start"] <= spans[1]["ts_start"] <= spans[2]["ts_start"]


def test_expect_100_continue_on_a_pipelined_request_waits_its_turn(shared_plumb):
    """A request asking for 100 Continue behind a slow one gets its 100 only after the slow one's
    response (never in the middle of it), then its own answer."""
    host, port = shared_plumb.url.split("//")[1].split(":")
    chat = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    with socket.create_connection((host, int(port))) as s:
        s.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Mock-Latency-Ms: 200\r\n"
                   f"Content-Length: {len(chat)}\r\n\r\n{chat}"
                   f"POST /openai/_mock/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                   f"Content-Length: 7\r\n\r\n").encode())
        got = read_responses(s, 2)
        assert [r[0] for r in got] == [200, 100]
        s.sendall(b'{"a":1}')
        (status, _, body), = read_responses(s, 1)
    assert status == 200 and json.loads(body)["body"] == '{"a":1}'


def test_malformed_pipelined_request_is_answered_after_the_ones_before_it(shared_plumb):
    """Bytes that are not HTTP behind a slow, valid request: the valid one gets its own answer
    first, then a 400 naming the problem, then the connection closes."""
    host, port = shared_plumb.url.split("//")[1].split(":")
    chat = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    with socket.create_connection((host, int(port))) as s:
        s.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Mock-Latency-Ms: 300\r\nX-Mock-Seed: 7\r\n"
                   f"Content-Length: {len(chat)}\r\n\r\n{chat}"
                   "GARBAGE \x01\x02 NOT HTTP\r\n\r\n").encode())
        got = read_responses(s, 2)
        assert s.recv(1) == b""
    assert [r[0] for r in got] == [200, 400]
    assert json.loads(got[0][2])["id"].endswith("7")
    assert json.loads(got[1][2])["error"]["code"] == "bad_request" and got[1][1].get("connection") == "close"
    assert shared_plumb.span(got[0][1]["plumb-span-id"])["status"] == 200


def test_a_span_is_readable_as_soon_as_its_answer_is(shared_plumb):
    """The span is recorded before the answer's last bytes are flushed, so a client holding a
    whole answer finds its `Plumb-Span-Id` at once: forwarded, streamed and refused calls, each
    looked up once, with no retry. Large bodies widen the window the old order left open
    (the span was built after the flush: under load, 4 runs in 4 failed)."""
    big = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 300_000}]}).encode()
    stream = json.dumps({"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "y" * 100_000}]}).encode()
    calls = [("/openai/v1/chat/completions", big, 200), ("/openai/v1/chat/completions", stream, 200),
             ("/nosuchprovider/v1/chat/completions", big, 404)]
    # Lookups on a connection of their own: on the call's connection, the next request waits
    # for the call to end anyway.
    with httpx.Client(timeout=30) as client, httpx.Client(timeout=30) as lookups:
        for k in range(30):
            for path, body, status in calls:
                r = client.post(f"{shared_plumb.url}{path}", content=body,
                                headers={"Content-Type": "application/json", "Authorization": "Bearer sk-x"})
                assert r.status_code == status, r.text[:200]
                sid = r.headers["plumb-span-id"]
                found = lookups.get(f"{shared_plumb.url}/_plumb/spans/{sid}")
                assert found.status_code == 200, (k, path, found.text[:200])
                assert found.json()["span_id"] == sid
