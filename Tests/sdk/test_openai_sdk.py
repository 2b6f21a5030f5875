"""The official openai SDK through plumb serve: the client receives exactly what the mock sent,
and the span has the exact tokens and cost."""
import asyncio
import base64
import json
import struct

import httpx2 as httpx
import openai
import pytest

from conftest import expected_cost, sha256

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello to the proxy please"}]


def client(plumb, **kw):
    return openai.OpenAI(base_url=f"{plumb.url}/v1", api_key="sk-test-openai-SECRET-1234", max_retries=0, **kw)


def direct(mock, path, body, headers=None):
    """The same request straight to the mock: what the upstream sends for it."""
    r = httpx.post(f"{mock}{path}", json=body, headers=headers or {}, timeout=30)
    return r


def check_common(span, *, provider="openai", operation="chat", stream=False, status=200):
    assert span["provider"] == provider
    assert span["operation"] == operation
    assert span["stream"] is stream
    assert span["status"] == status
    assert len(span["api_key_hash"]) == 16
    assert span["latency_ms"] >= span["upstream_ms"] > 0


def test_chat_sync_exact_bytes_and_span(shared_plumb):
    raw = client(shared_plumb).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, extra_headers={"Plumb-User-Id": "u-1", "Plumb-Property-Team": "search"})
    body = raw.http_response.content
    assert sha256(body) == raw.headers["x-mock-body-sha256"]
    completion = raw.parse()
    assert completion.choices[0].message.content.startswith("The mock upstream")
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    check_common(span)
    u = completion.usage
    assert (span["input_tokens"], span["output_tokens"]) == (u.prompt_tokens, u.completion_tokens)
    assert span["model_requested"] == "gpt-4o-mini" and span["model"] == completion.model
    assert span["finish_reason"] == "stop"
    assert span["user_id"] == "u-1" and span["properties"] == {"team": "search"}
    assert span["cost_usd"] == pytest.approx(expected_cost("openai", "gpt-4o-mini", u.prompt_tokens, u.completion_tokens), rel=1e-12)
    assert span["request_bytes"] == len(raw.http_request.content) and span["response_bytes"] == len(body)
    assert json.loads(span["response_body"]) == json.loads(body)
    assert "ttft_ms" not in span


def test_chat_stream_usage_is_exact_and_hidden(shared_plumb, mock):
    """No include_usage: Plumb asks for usage and removes it; the bytes equal the upstream's
    answer to the caller's own request."""
    seed = {"X-Mock-Seed": "4101"}
    with client(shared_plumb).chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_headers=seed) as resp:
        got = b"".join(resp.iter_bytes())
        span_id = resp.headers["plumb-span-id"]
    want = direct(mock, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}, seed)
    assert got == want.content
    assert b'"usage"' not in got
    full = direct(mock, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": MESSAGES}, seed).json()["usage"]
    span = shared_plumb.span(span_id)
    check_common(span, stream=True)
    assert (span["input_tokens"], span["output_tokens"]) == (full["prompt_tokens"], full["completion_tokens"])
    assert span["finish_reason"] == "stop" and span["ttft_ms"] > 0
    assert span["cost_usd"] == pytest.approx(expected_cost("openai", "gpt-4o-mini", full["prompt_tokens"], full["completion_tokens"]))
    # The SDK's own stream parsing sees only content chunks.
    chunks = list(client(shared_plumb).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("The mock upstream")


def test_chat_stream_with_caller_usage_untouched(shared_plumb):
    with client(shared_plumb).chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}) as resp:
        got = b"".join(resp.iter_bytes())
        assert sha256(got) == resp.headers["x-mock-body-sha256"]
        span_id = resp.headers["plumb-span-id"]
    usage = [json.loads(line[6:]) for line in got.decode().split("\n") if line.startswith("data: {")][-1]["usage"]
    span = shared_plumb.span(span_id)
    assert (span["input_tokens"], span["output_tokens"]) == (usage["prompt_tokens"], usage["completion_tokens"])


def test_async_client_sync_and_stream(shared_plumb):
    async def run():
        c = openai.AsyncOpenAI(base_url=f"{shared_plumb.url}/v1", api_key="sk-async", max_retries=0)
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        done = raw.parse()
        stream = await c.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
        return raw, done, text
    raw, done, text = asyncio.run(run())
    assert text == done.choices[0].message.content
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    assert span["input_tokens"] == done.usage.prompt_tokens
    assert span["cost_usd"] == pytest.approx(expected_cost("openai", "gpt-4o", done.usage.prompt_tokens, done.usage.completion_tokens))


TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


def test_tool_calls_sync_and_stream(shared_plumb):
    raw = client(shared_plumb).chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
    msg = raw.parse().choices[0]
    assert msg.finish_reason == "tool_calls"
    assert json.loads(msg.message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert shared_plumb.span(raw.headers["plumb-span-id"])["finish_reason"] == "tool_calls"
    with client(shared_plumb).chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_embeddings_base64_default(shared_plumb):
    raw = client(shared_plumb).embeddings.with_raw_response.create(model="text-embedding-3-small", input=["alpha beta", "gamma"])
    assert sha256(raw.http_response.content) == raw.headers["x-mock-body-sha256"]
    result = raw.parse()
    wire = json.loads(raw.http_response.content)["data"][0]["embedding"]
    assert result.data[0].embedding == pytest.approx(list(struct.unpack("<8f", base64.b64decode(wire))))
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    check_common(span, operation="embeddings")
    assert span["input_tokens"] == result.usage.prompt_tokens == 3
    assert "output_tokens" not in span
    assert span["cost_usd"] == pytest.approx(3 * expected_cost("openai", "text-embedding-3-small", 1, 0))


def test_responses_api_sync_and_stream(shared_plumb):
    raw = client(shared_plumb).responses.with_raw_response.create(model="gpt-4o-mini", input="Tell me about proxies")
    assert sha256(raw.http_response.content) == raw.headers["x-mock-body-sha256"]
    r = raw.parse()
    assert r.output_text.startswith("The mock upstream")
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    check_common(span, operation="responses")
    assert (span["input_tokens"], span["output_tokens"]) == (r.usage.input_tokens, r.usage.output_tokens)
    assert span["finish_reason"] == "completed"

    with client(shared_plumb).responses.with_streaming_response.create(model="gpt-4o-mini", input="Tell me", stream=True,
                                                                       extra_headers={"X-Mock-Reasoning-Tokens": "5"}) as resp:
        got = b"".join(resp.iter_bytes())
        assert sha256(got) == resp.headers["x-mock-body-sha256"]
        span_id = resp.headers["plumb-span-id"]
    span = shared_plumb.span(span_id)
    check_common(span, operation="responses", stream=True)
    assert span["reasoning_tokens"] == 5 and span["output_tokens"] == 12 + 5
    events = list(client(shared_plumb).responses.create(model="gpt-4o-mini", input="Tell me", stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.usage.output_tokens == 12


def test_legacy_completions_stream(shared_plumb, mock):
    seed = {"X-Mock-Seed": "4102"}
    with client(shared_plumb).completions.with_streaming_response.create(
            model="gpt-3.5-turbo-instruct", prompt="one two three", stream=True, extra_headers=seed) as resp:
        got = b"".join(resp.iter_bytes())
        span_id = resp.headers["plumb-span-id"]
    want = direct(mock, "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "one two three", "stream": True}, seed)
    assert got == want.content
    span = shared_plumb.span(span_id)
    check_common(span, operation="completion", stream=True)
    assert (span["input_tokens"], span["output_tokens"]) == (3, 12)
    assert span["cost_usd"] == pytest.approx(expected_cost("openai", "gpt-3.5-turbo-instruct", 3, 12))


def test_cached_and_reasoning_tokens_priced(shared_plumb):
    raw = client(shared_plumb).chat.completions.with_raw_response.create(
        model="o3-mini", messages=MESSAGES, extra_headers={"X-Mock-Cached-Tokens": "6", "X-Mock-Reasoning-Tokens": "40"})
    u = raw.parse().usage
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    assert span["cache_read_tokens"] == 6 and span["reasoning_tokens"] == 40
    assert span["input_tokens"] == u.prompt_tokens and span["output_tokens"] == u.completion_tokens == 52
    assert span["cost_usd"] == pytest.approx(expected_cost("openai", "o3-mini", u.prompt_tokens, 52, cache_read=6))


@pytest.mark.parametrize("answered,priced", [("gpt-4o-2024-08-06", True), ("gpt-4o-2099-01-01", False), ("my-finetune", False)])
def test_model_prices_exact_names_only(shared_plumb, answered, priced):
    raw = client(shared_plumb).chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES,
                                                                         extra_headers={"X-Mock-Model": answered})
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    assert span["model"] == answered and span["model_requested"] == "gpt-4o"
    if priced:
        u = raw.parse().usage
        assert span["cost_usd"] == pytest.approx(expected_cost("openai", answered, u.prompt_tokens, u.completion_tokens))
    else:
        assert "cost_usd" not in span   # unknown: null, never a guess from the base model
