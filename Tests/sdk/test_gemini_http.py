"""Gemini's REST API through plumb serve (there is no Gemini SDK in the test virtualenv, so
plain HTTP as the google-genai SDK sends it): generateContent and streamGenerateContent, with
and without alt=sse, the API key in the query string."""
import json

import httpx2 as httpx
import pytest

from conftest import expected_cost, sha256

BODY = {"contents": [{"role": "user", "parts": [{"text": "Explain logging proxies briefly"}]}]}
KEY = "AIza-SECRET-gemini-key-123"


def test_generate_content(shared_plumb):
    r = httpx.post(f"{shared_plumb.url}/gemini/v1beta/models/gemini-2.5-flash:generateContent?key={KEY}", json=BODY)
    assert r.status_code == 200 and sha256(r.content) == r.headers["x-mock-body-sha256"]
    u = r.json()["usageMetadata"]
    span = shared_plumb.span(r.headers["plumb-span-id"])
    assert span["operation"] == "generate" and span["model_requested"] == "gemini-2.5-flash" and span["model"] == "gemini-2.5-flash"
    assert span["endpoint"] == "/v1beta/models/gemini-2.5-flash:generateContent"   # never the ?key=
    assert (span["input_tokens"], span["output_tokens"]) == (u["promptTokenCount"], u["candidatesTokenCount"])
    assert span["finish_reason"] == "STOP" and len(span["api_key_hash"]) == 16
    assert span["cost_usd"] == pytest.approx(expected_cost("gemini", "gemini-2.5-flash", u["promptTokenCount"], u["candidatesTokenCount"]))


def test_stream_sse_with_thoughts_and_cache(shared_plumb):
    headers = {"x-goog-api-key": KEY, "X-Mock-Reasoning-Tokens": "7", "X-Mock-Cached-Tokens": "2"}
    with httpx.stream("POST", f"{shared_plumb.url}/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                      json=BODY, headers=headers) as r:
        got = b"".join(r.iter_bytes())
        assert sha256(got) == r.headers["x-mock-body-sha256"]
        span_id = r.headers["plumb-span-id"]
    last = json.loads(got.decode().strip().split("\r\n\r\n")[-1][len("data: "):])["usageMetadata"]
    span = shared_plumb.span(span_id)
    assert span["stream"] is True and span["ttft_ms"] > 0
    # Gemini's candidatesTokenCount excludes thoughts; Plumb's output counts them.
    assert span["output_tokens"] == last["candidatesTokenCount"] + 7 and span["reasoning_tokens"] == 7
    assert span["input_tokens"] == last["promptTokenCount"] and span["cache_read_tokens"] == 2
    assert span["cost_usd"] == pytest.approx(expected_cost("gemini", "gemini-2.5-flash", span["input_tokens"], span["output_tokens"], cache_read=2))


def test_stream_json_array(shared_plumb):
    r = httpx.post(f"{shared_plumb.url}/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent", json=BODY,
                   headers={"x-goog-api-key": KEY})
    assert sha256(r.content) == r.headers["x-mock-body-sha256"]
    items = r.json()
    span = shared_plumb.span(r.headers["plumb-span-id"])
    assert span["output_tokens"] == items[-1]["usageMetadata"]["candidatesTokenCount"] and span["stream"] is True
