"""Azure OpenAI and AI Foundry through plumb serve with the official openai SDK's AzureOpenAI
client (and OpenAI's client for the v1 shape): the client receives exactly what the mock's
Azure sends, the span names the deployment and the answering model, tokens and cost are exact
from the catalog's Azure prices, content-filter refusals and refused credentials are recorded
as such, and no key or token reaches the disk."""
import json
import subprocess

import httpx2 as httpx
import openai
import pytest

from conftest import expected_cost, sha256, start_plumb, stop

KEY = "mock-azure-key"          # the one key the mock's Azure accepts
VERSION = "2024-10-21"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello to the proxy please"}]


def azure_config(mock):
    return (f'[providers.azure]\nbase_url = "{mock}/azure"\napi = "azure"\n'
            f'[providers.azure-eu]\nbase_url = "{mock}/azure"\napi = "azure"\nprice_variant = "eu"\n')


@pytest.fixture(scope="module")
def azure_plumb(tmp_path_factory, mock):
    p = start_plumb(tmp_path_factory.mktemp("azure"), mock, azure_config(mock))
    yield p
    stop(p.proc)


def azure(base, provider="azure", **kw):
    kw.setdefault("api_key", KEY)
    return openai.AzureOpenAI(azure_endpoint=f"{base}/{provider}" if provider else base, api_version=VERSION, max_retries=0, **kw)


def check_span(span, *, deployment, model, provider="azure", stream=False, status=200, operation="chat"):
    assert span["provider"] == provider and span["operation"] == operation
    assert span["stream"] is stream and span["status"] == status
    assert span["model_requested"] == deployment and span["model"] == model
    assert len(span["api_key_hash"]) == 16


def test_chat_exact_bytes_deployment_and_cost(azure_plumb, mock):
    seed = {"X-Mock-Seed": "7101"}
    raw = azure(azure_plumb.url).chat.completions.with_raw_response.create(model="gpt4o-prod", messages=MESSAGES, extra_headers=seed)
    body = raw.http_response.content
    assert sha256(body) == raw.headers["x-mock-body-sha256"]
    assert raw.http_request.url.path == "/azure/openai/deployments/gpt4o-prod/chat/completions"
    direct = azure(f"{mock}/azure", provider=None).chat.completions.with_raw_response.create(
        model="gpt4o-prod", messages=MESSAGES, extra_headers=seed)
    assert body == direct.http_response.content          # untouched, content-filter annotations included
    completion = raw.parse()
    assert completion.model == "gpt-4o-2024-08-06"
    assert json.loads(body)["prompt_filter_results"][0]["content_filter_results"]["hate"]["filtered"] is False
    span = azure_plumb.span(raw.headers["plumb-span-id"])
    check_span(span, deployment="gpt4o-prod", model="gpt-4o-2024-08-06")
    assert span["endpoint"] == "/openai/deployments/gpt4o-prod/chat/completions"
    u = completion.usage
    assert (span["input_tokens"], span["output_tokens"]) == (u.prompt_tokens, u.completion_tokens)
    assert span["cost_usd"] == pytest.approx(expected_cost("azure", "gpt-4o-2024-08-06", u.prompt_tokens, u.completion_tokens), rel=1e-9)
    assert span["finish_reason"] == "stop" and "error_type" not in span


def test_stream_usage_is_injected_exact_and_hidden(azure_plumb, mock):
    """No include_usage: Plumb asks Azure for usage and removes that chunk again; the caller gets
    the bytes Azure sends for its own request, the prompt-annotation event first."""
    seed = {"X-Mock-Seed": "7102"}
    with azure(azure_plumb.url).chat.completions.with_streaming_response.create(
            model="mini", messages=MESSAGES, stream=True, extra_headers=seed) as r:
        through = b"".join(r.iter_bytes())
        span_id = r.headers["plumb-span-id"]
    direct = httpx.post(f"{mock}/azure/openai/deployments/mini/chat/completions?api-version={VERSION}",
                        json={"messages": MESSAGES, "model": "mini", "stream": True}, headers={**seed, "api-key": KEY})
    assert through == direct.content
    first = json.loads(through.split(b"\n\n")[0][len(b"data: "):])
    assert first["model"] == "" and first["choices"] == [] and "prompt_filter_results" in first
    assert b'"usage":{' not in through
    with_usage = httpx.post(f"{mock}/azure/openai/deployments/mini/chat/completions?api-version={VERSION}",
                            json={"messages": MESSAGES, "model": "mini", "stream": True, "stream_options": {"include_usage": True}},
                            headers={**seed, "api-key": KEY})
    usage = [json.loads(e[6:]) for e in with_usage.content.split(b"\n\n") if e.startswith(b"data: {")][-1]["usage"]
    span = azure_plumb.span(span_id)
    check_span(span, deployment="mini", model="gpt-4o-mini-2024-07-18", stream=True)
    assert (span["input_tokens"], span["output_tokens"]) == (usage["prompt_tokens"], usage["completion_tokens"])
    assert span["cost_usd"] == pytest.approx(
        expected_cost("azure", "gpt-4o-mini-2024-07-18", usage["prompt_tokens"], usage["completion_tokens"]), rel=1e-9)
    assert span["ttft_ms"] > 0


def test_stream_with_include_usage_passes_through(azure_plumb):
    stream = azure(azure_plumb.url).chat.completions.create(
        model="gpt4o-prod", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    usage = chunks[-1].usage
    span_id = stream.response.headers["plumb-span-id"]
    span = azure_plumb.span(span_id)
    check_span(span, deployment="gpt4o-prod", model="gpt-4o-2024-08-06", stream=True)
    assert (span["input_tokens"], span["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)


def test_data_zone_deployment_is_priced_from_its_variant(azure_plumb):
    raw = azure(azure_plumb.url, provider="azure-eu").chat.completions.with_raw_response.create(model="gpt4o-prod", messages=MESSAGES)
    u = raw.parse().usage
    span = azure_plumb.span(raw.headers["plumb-span-id"])
    check_span(span, deployment="gpt4o-prod", model="gpt-4o-2024-08-06", provider="azure-eu")
    eu = expected_cost("azure", "eu/gpt-4o-2024-08-06", u.prompt_tokens, u.completion_tokens)
    standard = expected_cost("azure", "gpt-4o-2024-08-06", u.prompt_tokens, u.completion_tokens)
    assert eu > standard and span["cost_usd"] == pytest.approx(eu, rel=1e-9)


def test_v1_shape_with_openai_client(azure_plumb):
    """Azure's v1 API: OpenAI's own client, the key as a bearer token, the deployment in `model`."""
    c = openai.OpenAI(base_url=f"{azure_plumb.url}/azure/openai/v1/", api_key=KEY, max_retries=0)
    raw = c.chat.completions.with_raw_response.create(model="mini", messages=MESSAGES)
    u = raw.parse().usage
    span = azure_plumb.span(raw.headers["plumb-span-id"])
    check_span(span, deployment="mini", model="gpt-4o-mini-2024-07-18")
    assert span["endpoint"] == "/openai/v1/chat/completions"
    assert span["cost_usd"] == pytest.approx(expected_cost("azure", "gpt-4o-mini-2024-07-18", u.prompt_tokens, u.completion_tokens), rel=1e-9)


def test_foundry_model_inference_is_priced_from_azure_ai(azure_plumb):
    r = httpx.post(f"{azure_plumb.url}/azure/models/chat/completions?api-version=2024-05-01-preview",
                   json={"model": "gpt-oss-120b", "messages": MESSAGES}, headers={"api-key": KEY})
    assert r.status_code == 200
    u = r.json()["usage"]
    span = azure_plumb.span(r.headers["plumb-span-id"])
    check_span(span, deployment="gpt-oss-120b", model="gpt-oss-120b")
    assert span["cost_usd"] == pytest.approx(expected_cost("azure_ai", "gpt-oss-120b", u["prompt_tokens"], u["completion_tokens"]), rel=1e-9)


def test_embeddings_deployment(azure_plumb):
    raw = azure(azure_plumb.url).embeddings.with_raw_response.create(model="embed", input=["one two three"])
    e = raw.parse()
    span = azure_plumb.span(raw.headers["plumb-span-id"])
    check_span(span, deployment="embed", model="text-embedding-3-small", operation="embeddings")
    assert span["input_tokens"] == e.usage.prompt_tokens
    assert span["cost_usd"] == pytest.approx(expected_cost("azure", "text-embedding-3-small", e.usage.prompt_tokens, 0), rel=1e-9)


def test_prompt_refused_by_content_filter(azure_plumb):
    with pytest.raises(openai.BadRequestError) as refused:
        azure(azure_plumb.url).chat.completions.create(
            model="gpt4o-prod", messages=[{"role": "user", "content": "MOCK_FILTER_PROMPT please"}])
    err = refused.value
    assert err.status_code == 400 and err.code == "content_filter"
    assert err.body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    span = azure_plumb.span(err.response.headers["plumb-span-id"])
    assert span["status"] == 400 and span["error_type"] == "content_filtered" and span["model_requested"] == "gpt4o-prod"


@pytest.mark.parametrize("stream", [False, True])
def test_completion_cut_by_content_filter(azure_plumb, stream):
    c = azure(azure_plumb.url)
    messages = [{"role": "user", "content": "MOCK_FILTER_COMPLETION now"}]
    if stream:
        s = c.chat.completions.create(model="gpt4o-prod", messages=messages, stream=True)
        finishes = [ch.choices[0].finish_reason for ch in s if ch.choices and ch.choices[0].finish_reason]
        span_id = s.response.headers["plumb-span-id"]
        assert finishes == ["content_filter"]
    else:
        raw = c.chat.completions.with_raw_response.create(model="gpt4o-prod", messages=messages)
        assert raw.parse().choices[0].finish_reason == "content_filter"
        span_id = raw.headers["plumb-span-id"]
    span = azure_plumb.span(span_id)
    assert span["status"] == 200 and span["error_type"] == "content_filtered" and span["finish_reason"] == "content_filter"
    assert span["output_tokens"] > 0       # a cut completion is still billed


def test_wrong_key_and_expired_token_pass_through(azure_plumb, mock):
    with pytest.raises(openai.AuthenticationError) as wrong:
        azure(azure_plumb.url, api_key="not-the-key").chat.completions.create(model="gpt4o-prod", messages=MESSAGES)
    direct = httpx.post(f"{mock}/azure/openai/deployments/gpt4o-prod/chat/completions?api-version={VERSION}",
                        json={"model": "gpt4o-prod", "messages": MESSAGES}, headers={"api-key": "not-the-key"})
    assert wrong.value.response.content == direct.content and direct.status_code == 401
    span = azure_plumb.span(wrong.value.response.headers["plumb-span-id"])
    assert span["status"] == 401 and span["error_type"] == "auth_failed"
    with pytest.raises(openai.AuthenticationError) as expired:
        azure(azure_plumb.url, api_key=None, azure_ad_token="eyJexpired.token.x").chat.completions.create(model="gpt4o-prod", messages=MESSAGES)
    assert "expired" in expired.value.message
    span = azure_plumb.span(expired.value.response.headers["plumb-span-id"])
    assert span["status"] == 401 and span["error_type"] == "auth_failed"


def test_unknown_deployment_is_azures_404(azure_plumb):
    with pytest.raises(openai.NotFoundError) as missing:
        azure(azure_plumb.url).chat.completions.create(model="no-such-deployment", messages=MESSAGES)
    assert missing.value.code == "DeploymentNotFound"
    span = azure_plumb.span(missing.value.response.headers["plumb-span-id"])
    assert span["status"] == 404 and span["model_requested"] == "no-such-deployment" and "cost_usd" not in span


def test_keys_and_entra_tokens_never_reach_the_disk(tmp_path, mock):
    token = "eyJhbGciOiJSUzI1NiJ9.ENTRA-DO-NOT-STORE.sig"
    p = start_plumb(tmp_path, mock, azure_config(mock))
    try:
        a = azure(p.url).chat.completions.with_raw_response.create(model="gpt4o-prod", messages=MESSAGES)
        b = azure(p.url, api_key=None, azure_ad_token=token).chat.completions.with_raw_response.create(model="gpt4o-prod", messages=MESSAGES)
        c = azure(p.url, api_key=None, azure_ad_token=token).chat.completions.with_raw_response.create(model="mini", messages=MESSAGES)
        hashes = [p.span(r.headers["plumb-span-id"])["api_key_hash"] for r in (a, b, c)]
        assert hashes[0] != hashes[1] and hashes[1] == hashes[2]      # fingerprinted, per credential
    finally:
        stop(p.proc)
    for secret in (KEY, "ENTRA-DO-NOT-STORE"):
        found = subprocess.run(["grep", "-r", "-l", "-a", secret, str(p.data)], capture_output=True, text=True)
        assert found.stdout == "", f"{secret} reached the disk in: {found.stdout}"


def test_a_price_variant_needs_api_azure(tmp_path, mock):
    from conftest import serve_refuses
    code, err = serve_refuses(tmp_path, mock, f'[providers.x]\nbase_url = "{mock}"\napi = "openai"\nprice_variant = "eu"\n')
    assert code not in (None, 0) and "price_variant applies to api = \"azure\" only" in err
    (tmp_path / "b").mkdir()
    code, err = serve_refuses(tmp_path / "b", mock, f'[providers.x]\nbase_url = "{mock}"\napi = "azure"\nprice_variant = "mars"\n')
    assert code not in (None, 0) and "price_variant must be one of apac, eu, global, global-standard, us, us-gov" in err


def test_an_old_api_version_stream_is_not_asked_for_usage(azure_plumb, mock):
    """Azure refuses stream_options before 2024-09-01-preview: the call goes through as the caller
    sent it, recorded without tokens, rather than broken."""
    old = openai.AzureOpenAI(azure_endpoint=f"{azure_plumb.url}/azure", api_version="2024-06-01", api_key=KEY, max_retries=0)
    seed = {"X-Mock-Seed": "7103"}
    with old.chat.completions.with_streaming_response.create(model="mini", messages=MESSAGES, stream=True, extra_headers=seed) as r:
        through = b"".join(r.iter_bytes())
        span_id = r.headers["plumb-span-id"]
    direct = httpx.post(f"{mock}/azure/openai/deployments/mini/chat/completions?api-version=2024-06-01",
                        json={"messages": MESSAGES, "model": "mini", "stream": True}, headers={**seed, "api-key": KEY})
    assert r.status_code == 200 and through == direct.content
    span = azure_plumb.span(span_id)
    assert span["status"] == 200 and "input_tokens" not in span and span["model"] == "gpt-4o-mini-2024-07-18"


def test_digest_cache_savings_use_a_clouds_prices(tmp_path):
    """The digest looks a cloud provider's prices up where the proxy does (an Azure data-zone
    deployment: azure/eu/...), not under the provider's own name, where there are none."""
    from conftest import PLUMB, PRICING
    config = tmp_path / "plumb.toml"
    config.write_text('[providers.azure-eu]\nbase_url = "https://r.openai.azure.com"\napi = "azure"\nprice_variant = "eu"\n')
    spans = tmp_path / "spans.jsonl"
    spans.write_text("".join(json.dumps({
        "span_id": f"0199aaaa00007000800000000000000{i}", "ts_start": f"2026-10-20T10:00:0{i}Z", "ts_end": f"2026-10-20T10:00:0{i}.5Z",
        "provider": "azure-eu", "model_requested": "gpt4o-prod", "model": "gpt-4o-2024-08-06", "operation": "chat",
        "endpoint": "/openai/deployments/gpt4o-prod/chat/completions", "status": 200, "input_tokens": 1000, "output_tokens": 10,
        "cache_read_tokens": 400}) + "\n" for i in range(3)))
    data = tmp_path / "data"
    r = subprocess.run([PLUMB, "import", "--data", data, "--config", config, spans], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([PLUMB, "digest", "--data", data, "--config", config, "--now", "2026-10-21T12:00:00Z", "--date", "2026-10-20",
                        "--timezone", "UTC", "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    eu = PRICING["azure"]["eu/gpt-4o-2024-08-06"]
    saved = 3 * 400 * (eu["input"] - eu["cache_read"])
    assert json.loads(r.stdout)["spend"]["cache_savings_usd"] == pytest.approx(saved, rel=1e-9)
