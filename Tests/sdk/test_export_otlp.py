"""OTLP/HTTP export end to end: the real `plumb serve` proxying to the real `plumb-mock`, its
exporter sending to a receiver that decodes with the opentelemetry-proto package
(tools/fleet/otlp_receiver.py). Faults: receiver down, 429 with Retry-After, 400, kill -9."""
import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import PLUMB, ROOT, plumb_health, post_json, spawn, start_plumb, stop, wait_for

sys.path.insert(0, str(ROOT / "tools" / "fleet"))
from otlp_receiver import OTLPReceiver  # noqa: E402

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def otlp_config(endpoint, protocol="http/protobuf", extra=""):
    return f'[export.otlp]\nendpoint = "{endpoint}"\nprotocol = "{protocol}"\nservice_name = "gateway-test"\n{extra}\n'


def call(p, path="/v1/chat/completions", body=None, headers=None):
    sid, status, _ = post_json(p, path, body or CHAT, headers)
    return sid, status


health = plumb_health
wait = wait_for


def installation_id(data):
    con = sqlite3.connect(f"file:{data}/catalog.sqlite?mode=ro", uri=True)
    return con.execute("SELECT value FROM meta WHERE key = 'installation_id'").fetchone()[0]


def traffic(p):
    """A mix of calls; returns {span_id: what was sent}."""
    sent = {}
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    sid, _ = call(p, headers={"traceparent": tp, "Plumb-User-Id": "u-1", "Plumb-Session-Id": "s-1",
                              "Plumb-Property-Team": "search"})
    sent[sid] = "traced"
    sid, _ = call(p, body={**CHAT, "stream": True})
    sent[sid] = "stream"
    sid, _ = call(p, "/anthropic/v1/messages", {"model": "claude-sonnet-4-20250514", "max_tokens": 50,
                                                "messages": [{"role": "user", "content": "hi"}]})
    sent[sid] = "anthropic"
    sid, _ = call(p, "/gemini/v1beta/models/gemini-2.0-flash:generateContent",
                  {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    sent[sid] = "gemini"
    sid, r = call(p, headers={"X-Mock-Fault": "500"})
    assert r == 500
    sent[sid] = "failed"
    for _ in range(7):
        sid, _ = call(p)
        sent[sid] = "plain"
    return sent


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_each_call_becomes_one_otlp_span(tmp_path, mock, protocol):
    with OTLPReceiver() as rx:
        p = start_plumb(tmp_path, mock, otlp_config(rx.url, protocol))
        try:
            sent = traffic(p)
            assert rx.wait_for_spans(len(sent), timeout=20) == len(sent)
            time.sleep(1.5)                       # nothing more may come
            spans = rx.spans()
            assert len(spans) == len(sent)
            by_id = {s["attributes"]["plumb.span_id"]: s for s in spans}
            assert set(by_id) == set(sent)
            assert all(s["encoding"] == protocol.split("/")[1] and s["gzip"] for s in spans)
            assert rx.stats()["ignored_json_keys"] == {}
            inst = installation_id(p.data)
            for sid, kind in sent.items():
                o, stored = by_id[sid], p.span(sid)
                a = o["attributes"]
                assert o["kind"] == 3
                assert o["resource"] == {"service.name": "gateway-test", "service.instance.id": inst,
                                         "host.name": o["resource"]["host.name"]}
                assert a.get("gen_ai.usage.input_tokens") == stored.get("input_tokens")
                assert a.get("gen_ai.usage.output_tokens") == stored.get("output_tokens")
                assert a.get("gen_ai.response.model") == stored.get("model")
                assert a["http.response.status_code"] == stored["status"]
                if stored.get("cost_usd") is None:
                    assert "plumb.cost_usd" not in a
                else:
                    assert abs(a["plumb.cost_usd"] - stored["cost_usd"]) < 1e-15
                assert o["start_time_unix_nano"] == int(stored["ts_start"] and _micros(stored["ts_start"])) * 1000
                if kind == "failed":
                    assert o["status_code"] == 2 and a["error.type"] == "upstream_5xx"
                else:
                    assert o["status_code"] == 0 and "error.type" not in a
            t = by_id[next(k for k, v in sent.items() if v == "traced")]
            assert t["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and t["parent_span_id"] == "00f067aa0ba902b7"
            assert t["attributes"]["user.id"] == "u-1" and t["attributes"]["session.id"] == "s-1"
            assert t["attributes"]["gen_ai.conversation.id"] == "s-1"
            assert t["attributes"]["plumb.property.team"] == "search"
            assert t["name"] == "chat gpt-4o"
            g = by_id[next(k for k, v in sent.items() if v == "gemini")]["attributes"]
            assert g["gen_ai.provider.name"] == "gcp.gemini" and g["gen_ai.operation.name"] == "generate_content"
            s = by_id[next(k for k, v in sent.items() if v == "stream")]["attributes"]
            assert s["gen_ai.request.stream"] is True and s["gen_ai.response.time_to_first_chunk"] > 0
            assert "gen_ai.input.messages" not in s, "bodies only with include_bodies"
            h = health(p)["exporters"]["otlp"]
            assert h["spans_exported"] == len(sent) and h["lag_spans"] == 0 and h["state"] == "ok"
            assert f'plumb_export_spans_total{{exporter="otlp"}} {len(sent)}' in p.metrics()
        finally:
            stop(p.proc)


def _micros(ts):
    # "2026-12-06T13:22:33.123456Z" -> microseconds since the epoch
    from datetime import datetime, timezone
    return int(datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1_000_000 + 0.5)


def test_bodies_become_genai_messages_when_asked(tmp_path, mock):
    with OTLPReceiver() as rx:
        p = start_plumb(tmp_path, mock, otlp_config(rx.url, extra="include_bodies = true"))
        try:
            sid, _ = call(p, body={"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
                                                                  {"role": "user", "content": "hello"}]})
            rx.wait_for_spans(1, timeout=20)
            a = rx.spans()[0]["attributes"]
            inp = json.loads(a["gen_ai.input.messages"])
            assert inp == [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
                           {"role": "user", "parts": [{"type": "text", "content": "hello"}]}]
            out = json.loads(a["gen_ai.output.messages"])
            stored = json.loads(p.span(sid)["response_body"])
            assert out[0]["role"] == "assistant"
            assert out[0]["parts"][0]["content"] == stored["choices"][0]["message"]["content"]
        finally:
            stop(p.proc)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_receiver_process(port):
    return spawn([sys.executable, ROOT / "tools" / "fleet" / "otlp_receiver.py", "--port", port],
                 ready=r"listening on (\S+)")[0]


def received_ids(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_test/spans") as r:
        return [(s["attributes"]["plumb.span_id"], s["request"]) for s in json.loads(r.read())]


def test_receiver_down_for_20s_then_back_loses_nothing(tmp_path, mock):
    port = free_port()
    rx = start_receiver_process(port)
    p = start_plumb(tmp_path, mock, otlp_config(f"http://127.0.0.1:{port}"))
    try:
        sent = [call(p)[0] for _ in range(5)]
        wait("first spans", lambda: len(received_ids(port)) == 5)
        stop(rx)
        down_at = time.time()
        while time.time() - down_at < 20:             # calls keep coming while it is down
            sent.append(call(p)[0])
            time.sleep(0.5)
        h = health(p)["exporters"]["otlp"]
        assert h["state"] == "retrying" and h["lag_spans"] > 0 and h["batches_failed"] > 0, h
        assert h["last_error"]
        rx = start_receiver_process(port)
        try:
            wait("every span", lambda: len(received_ids(port)) >= len(sent) - 5, timeout=60)
        except AssertionError:
            raise AssertionError(f"{len(received_ids(port))} of {len(sent) - 5}: {health(p)}")
        time.sleep(1)
        ids = [i for i, _ in received_ids(port)]
        assert sorted(ids) == sorted(sent[5:]), "each span after the outage exactly once"
        assert health(p)["exporters"]["otlp"]["lag_spans"] == 0
    finally:
        stop(p.proc)
        stop(rx)


def test_429_retry_after_is_honoured(tmp_path, mock):
    with OTLPReceiver() as rx:
        p = start_plumb(tmp_path, mock, otlp_config(rx.url))
        try:
            rx.set_mode({"status": 429, "retry_after": "2", "count": 2})
            t0 = time.time()
            sid, _ = call(p)
            assert rx.wait_for_spans(1, timeout=30) == 1
            elapsed = time.time() - t0
            assert elapsed >= 4.0, f"two Retry-After: 2 answers, yet the span arrived after {elapsed:.1f}s"
            assert rx.stats()["by_status"] == {"429": 2, "200": 1}
            assert [s["attributes"]["plumb.span_id"] for s in rx.spans()] == [sid]
        finally:
            stop(p.proc)


def test_a_400_batch_is_reported_once_and_skipped_after_bounded_tries(tmp_path, mock):
    with OTLPReceiver() as rx:
        rx.set_mode({"status": 400, "count": 3, "message": "span 7 has no name"})
        p = start_plumb(tmp_path, mock, otlp_config(rx.url))
        try:
            first, _ = call(p)
            wait("three rejections", lambda: rx.stats()["by_status"].get("400") == 3, timeout=30)
            second, _ = call(p)
            assert rx.wait_for_spans(1, timeout=30) == 1
            assert [s["attributes"]["plumb.span_id"] for s in rx.spans()] == [second]
            metrics = p.metrics()
            assert 'plumb_export_batches_skipped_total{exporter="otlp"} 1' in metrics
            assert 'plumb_export_spans_skipped_total{exporter="otlp"} 1' in metrics
            assert 'plumb_export_batches_failed_total{exporter="otlp"} 3' in metrics
        finally:
            stop(p.proc)
        err = p.proc.stderr.read()
        assert err.count("rejected: HTTP 400") == 1, err
        assert "span 7 has no name" in err, "the receiver's words are reported"
        assert err.count("skipped after 3 rejections") == 1, err


def test_kill_9_mid_export_then_restart_loses_nothing(tmp_path, mock):
    with OTLPReceiver() as rx:
        rx.set_mode({"delay_ms": 400})                # batches are in flight most of the time
        extra = otlp_config(rx.url, extra="max_batch_spans = 20")
        p = start_plumb(tmp_path, mock, extra)
        sent = []
        for _ in range(120):
            sent.append(call(p)[0])
        time.sleep(0.3)                                # spans durable (WAL), some batches acknowledged
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait()
        before = len(rx.spans())
        assert before < len(sent), "the kill came mid-export"
        rx.set_mode({"delay_ms": 0})
        p2 = start_plumb(tmp_path, mock, extra, data=p.data)
        try:
            wait("every span", lambda: len({s["attributes"]["plumb.span_id"] for s in rx.spans()}) == len(sent), timeout=60)
            time.sleep(1.5)
            spans = rx.spans()
            ids = [s["attributes"]["plumb.span_id"] for s in spans]
            assert set(ids) == set(sent)
            dups = {i for i in ids if ids.count(i) > 1}
            # Only the batch in flight at the kill may come again: its spans, all in one request.
            requests = {s["request"] for s in spans if s["attributes"]["plumb.span_id"] in dups and
                        ids.index(s["attributes"]["plumb.span_id"]) == spans.index(s)}
            assert len(dups) <= 20 and len(requests) <= 1, (len(dups), requests)
        finally:
            stop(p2.proc)


def test_backfill_sends_spans_stored_before_the_exporter(tmp_path, mock):
    p = start_plumb(tmp_path, mock)
    old = [call(p)[0] for _ in range(6)]
    stop(p.proc)
    with OTLPReceiver() as rx:
        p = start_plumb(tmp_path, mock, otlp_config(rx.url), data=p.data)
        try:
            new, _ = call(p)
            rx.wait_for_spans(1, timeout=20)
            time.sleep(1)
            assert [s["attributes"]["plumb.span_id"] for s in rx.spans()] == [new], "older spans wait for a backfill"
            r = subprocess.run([PLUMB, "export", "--config", p.config, "--data", p.data, "--since", "1h", "--to", "otlp"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert "otlp: 7 spans sent" in r.stdout
            got = [s["attributes"]["plumb.span_id"] for s in rx.spans()]
            assert sorted(got) == sorted(old + [new, new])
            bad = subprocess.run([PLUMB, "export", "--config", p.config, "--data", p.data, "--since", "1h", "--to", "clickhouse"],
                                 capture_output=True, text=True, timeout=60)
            assert bad.returncode != 0 and "[export.clickhouse] is not in the config" in bad.stderr
        finally:
            stop(p.proc)


def test_auth_failures_wait_and_too_large_batches_split(tmp_path, mock):
    """401 (a rotated key) is retried, never skipped; 413 sends the batch in halves."""
    with OTLPReceiver() as rx:
        rx.set_mode({"status": 401, "count": 2})
        p = start_plumb(tmp_path, mock, otlp_config(rx.url))
        try:
            first = call(p)[0]
            assert rx.wait_for_spans(1, timeout=30) == 1
            assert rx.stats()["by_status"] == {"401": 2, "200": 1}
            rx.set_mode({"status": 413, "count": 1})
            more = [call(p)[0] for _ in range(6)]   # within one segment cut: one batch
            assert rx.wait_for_spans(7, timeout=30) == 7
            time.sleep(1)
            ids = [s["attributes"]["plumb.span_id"] for s in rx.spans()]
            assert sorted(ids) == sorted([first] + more)
            assert rx.stats()["by_status"].get("413") == 1
            sizes = {}
            for s in rx.spans():
                if s["attributes"]["plumb.span_id"] in more:
                    sizes[s["request"]] = sizes.get(s["request"], 0) + 1
            assert max(sizes.values()) <= 3, f"the refused batch went in halves: {sizes}"
            assert 'plumb_export_batches_skipped_total{exporter="otlp"} 0' in p.metrics()
        finally:
            stop(p.proc)
