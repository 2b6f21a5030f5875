"""The official anthropic SDK through plumb serve: messages sync, async, streaming, tool use and
prompt caching, with exact bytes and exact tokens and cost in the span."""
import asyncio
import json

import anthropic
import pytest

from conftest import expected_cost, sha256

SYSTEM_LONG = "You are a careful assistant who answers questions about proxies and logging " * 8


def client(plumb):
    return anthropic.Anthropic(base_url=f"{plumb.url}/anthropic", api_key="sk-ant-SECRET-abcdef", max_retries=0)


def test_messages_sync(shared_plumb):
    raw = client(shared_plumb).messages.with_raw_response.create(
        model="claude-sonnet-4-6", max_tokens=200, messages=[{"role": "user", "content": "hello there proxy"}])
    assert sha256(raw.http_response.content) == raw.headers["x-mock-body-sha256"]
    m = raw.parse()
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    assert span["provider"] == "anthropic" and span["operation"] == "messages" and span["endpoint"] == "/v1/messages"
    assert span["input_tokens"] == m.usage.input_tokens and span["output_tokens"] == m.usage.output_tokens
    assert span["finish_reason"] == "end_turn" and span["model"] == "claude-sonnet-4-6"
    assert span["cost_usd"] == pytest.approx(expected_cost("anthropic", "claude-sonnet-4-6", m.usage.input_tokens, m.usage.output_tokens))


def test_messages_stream_helper_and_raw_bytes(shared_plumb):
    with client(shared_plumb).messages.stream(model="claude-sonnet-4-6", max_tokens=200,
                                              messages=[{"role": "user", "content": "stream it"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text.startswith("The mock upstream") and final.stop_reason == "end_turn"
    with client(shared_plumb).messages.with_streaming_response.create(
            model="claude-sonnet-4-6", max_tokens=200, stream=True, messages=[{"role": "user", "content": "stream it"}]) as resp:
        got = b"".join(resp.iter_bytes())
        assert sha256(got) == resp.headers["x-mock-body-sha256"]
        span_id = resp.headers["plumb-span-id"]
    span = shared_plumb.span(span_id)
    assert span["stream"] is True and span["ttft_ms"] > 0
    assert (span["input_tokens"], span["output_tokens"]) == (final.usage.input_tokens, final.usage.output_tokens)


def test_prompt_caching_write_then_read(shared_plumb):
    """Anthropic's input_tokens exclude cache reads and writes: the span's input is their sum,
    and cost prices each part at its own rate."""
    system = [{"type": "text", "text": SYSTEM_LONG, "cache_control": {"type": "ephemeral"}}]
    spans = []
    for _ in range(2):
        raw = client(shared_plumb).messages.with_raw_response.create(
            model="claude-sonnet-4-6", max_tokens=100, system=system, messages=[{"role": "user", "content": "what is a span"}])
        u = raw.parse().usage
        spans.append((u, shared_plumb.span(raw.headers["plumb-span-id"])))
    (u1, s1), (u2, s2) = spans
    assert u1.cache_creation_input_tokens > 0 and u1.cache_read_input_tokens == 0
    assert u2.cache_read_input_tokens == u1.cache_creation_input_tokens and u2.cache_creation_input_tokens == 0
    for u, s in spans:
        total = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
        assert s["input_tokens"] == total
        assert s["cache_read_tokens"] == u.cache_read_input_tokens and s["cache_write_tokens"] == u.cache_creation_input_tokens
        assert s["cost_usd"] == pytest.approx(expected_cost("anthropic", "claude-sonnet-4-6", total, u.output_tokens,
                                                            cache_read=u.cache_read_input_tokens,
                                                            cache_write=u.cache_creation_input_tokens), rel=1e-12)
    assert s2["cost_usd"] < s1["cost_usd"]


def test_prompt_caching_streamed(shared_plumb):
    system = [{"type": "text", "text": SYSTEM_LONG + " streamed", "cache_control": {"type": "ephemeral"}}]
    with client(shared_plumb).messages.stream(model="claude-haiku-4-5", max_tokens=50, system=system,
                                              messages=[{"role": "user", "content": "hi"}]) as s:
        final = s.get_final_message()
        span_id = s.response.headers["plumb-span-id"]
    u = final.usage
    span = shared_plumb.span(span_id)
    assert span["cache_write_tokens"] == u.cache_creation_input_tokens > 0
    assert span["input_tokens"] == u.input_tokens + u.cache_creation_input_tokens
    assert span["cost_usd"] == pytest.approx(expected_cost("anthropic", "claude-haiku-4-5", span["input_tokens"], u.output_tokens,
                                                           cache_write=u.cache_creation_input_tokens))


def test_tool_use(shared_plumb):
    tools = [{"name": "get_weather", "description": "weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    m = client(shared_plumb).messages.create(model="claude-sonnet-4-6", max_tokens=100, tools=tools,
                                             messages=[{"role": "user", "content": "weather in Paris"}])
    assert m.stop_reason == "tool_use" and m.content[0].input == {"city": "Paris"}
    with client(shared_plumb).messages.stream(model="claude-sonnet-4-6", max_tokens=100, tools=tools,
                                              messages=[{"role": "user", "content": "weather in Paris"}]) as s:
        final = s.get_final_message()
        span_id = s.response.headers["plumb-span-id"]
    assert final.content[0].input == {"city": "Paris"}
    assert shared_plumb.span(span_id)["finish_reason"] == "tool_use"


def test_async_client(shared_plumb):
    async def run():
        c = anthropic.AsyncAnthropic(base_url=f"{shared_plumb.url}/anthropic", api_key="sk-ant-async", max_retries=0)
        raw = await c.messages.with_raw_response.create(model="claude-opus-4-5", max_tokens=10,
                                                         messages=[{"role": "user", "content": "async hello"}])
        return raw, await raw.parse()
    raw, m = asyncio.run(run())
    span = shared_plumb.span(raw.headers["plumb-span-id"])
    assert span["output_tokens"] == m.usage.output_tokens
    assert span["cost_usd"] == pytest.approx(expected_cost("anthropic", "claude-opus-4-5", m.usage.input_tokens, m.usage.output_tokens))
