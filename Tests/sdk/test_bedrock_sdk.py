"""AWS Bedrock through plumb serve with boto3's bedrock-runtime client pointed at Plumb
(`endpoint_url`): the client signs for Plumb with any key, Plumb re-signs with its own (the mock
checks the signature over what arrives, as AWS does), answers and event streams come back as the
mock sent them, and the span has the model asked for, exact tokens (cached ones included in the
input) and the catalog's Bedrock price. No key or signature reaches the disk."""
import json
import subprocess

import boto3
import httpx2 as httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import PRICING, expected_cost, sha256, start_plumb, stop

PLUMB_ENV = {"AWS_ACCESS_KEY_ID": "AKIDMOCKBEDROCK", "AWS_SECRET_ACCESS_KEY": "mock-bedrock-secret",
             "AWS_SESSION_TOKEN": "FQoGZXIvYXdzSESSION-DO-NOT-STORE"}
CALLER = {"aws_access_key_id": "AKIDCALLERONLY", "aws_secret_access_key": "caller-secret-DO-NOT-STORE"}
SONNET = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-pro-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Say hello to the proxy please"}]}]
CLAUDE_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello please"}]}


def bedrock_config(mock, region=""):
    return f'[providers.bedrock]\nbase_url = "{mock}/bedrock"\napi = "bedrock"\nregion = "{region or "us-east-1"}"\n'


@pytest.fixture(scope="module")
def bedrock_plumb(tmp_path_factory, mock):
    p = start_plumb(tmp_path_factory.mktemp("bedrock"), mock, bedrock_config(mock), env=PLUMB_ENV)
    yield p
    stop(p.proc)


def client(url, headers=None, **creds):
    c = boto3.client("bedrock-runtime", endpoint_url=url, region_name="us-east-1", config=Config(retries={"max_attempts": 1}),
                     **(creds or CALLER))
    if headers:
        def add(request, **_):
            for k, v in headers.items():
                request.headers[k] = v
        c.meta.events.register("before-sign.bedrock-runtime.*", add)
    return c


def through(p, **kw):
    return client(f"{p.url}/bedrock", **kw)


def direct(mock, **kw):
    return client(f"{mock}/bedrock", **kw | {"aws_access_key_id": "AKIDMOCKBEDROCK", "aws_secret_access_key": "mock-bedrock-secret"})


def span_of(p, response):
    return p.span(response["ResponseMetadata"]["HTTPHeaders"]["plumb-span-id"])


def raw_signed(url, path, body, key="AKIDCALLERONLY", secret="caller-secret-DO-NOT-STORE", headers=None):
    """A request signed by botocore's own signer, sent with httpx: the bytes that come back."""
    req = AWSRequest(method="POST", url=url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})})
    SigV4Auth(Credentials(key, secret), "bedrock", "us-east-1").add_auth(req)
    return httpx.post(url + path, content=req.body, headers=dict(req.headers.items()), timeout=30)


def test_converse_exact_span_and_cost(bedrock_plumb, mock):
    seed = {"X-Mock-Seed": "8101"}
    r = through(bedrock_plumb, headers=seed).converse(modelId=SONNET, messages=MESSAGES, inferenceConfig={"maxTokens": 256})
    d = direct(mock, headers=seed).converse(modelId=SONNET, messages=MESSAGES, inferenceConfig={"maxTokens": 256})
    assert {k: v for k, v in r.items() if k != "ResponseMetadata"} == {k: v for k, v in d.items() if k != "ResponseMetadata"}
    span = span_of(bedrock_plumb, r)
    u = r["usage"]
    assert span["provider"] == "bedrock" and span["operation"] == "chat" and span["stream"] is False and span["status"] == 200
    assert span["model_requested"] == SONNET and span["model"] == SONNET
    assert span["endpoint"] == "/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert (span["input_tokens"], span["output_tokens"]) == (u["inputTokens"], u["outputTokens"])
    assert span["finish_reason"] == "end_turn"
    assert span["cost_usd"] == pytest.approx(expected_cost("bedrock", SONNET, u["inputTokens"], u["outputTokens"]), rel=1e-9)
    assert len(span["api_key_hash"]) == 16


def test_converse_bytes_are_relayed_untouched(bedrock_plumb):
    r = raw_signed(bedrock_plumb.url, "/bedrock/model/amazon.nova-pro-v1%3A0/converse", {"messages": MESSAGES})
    assert r.status_code == 200 and sha256(r.content) == r.headers["x-mock-body-sha256"]
    s = raw_signed(bedrock_plumb.url, "/bedrock/model/amazon.nova-pro-v1%3A0/converse-stream", {"messages": MESSAGES})
    assert s.status_code == 200 and s.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert sha256(s.content) == s.headers["x-mock-body-sha256"]


def test_cache_tokens_count_in_the_input(bedrock_plumb):
    r = through(bedrock_plumb, headers={"X-Mock-Cached-Tokens": "3", "X-Mock-Cache-Write-Tokens": "2"}).converse(modelId=SONNET, messages=MESSAGES)
    u = r["usage"]
    span = span_of(bedrock_plumb, r)
    total = u["inputTokens"] + 3 + 2
    assert (span["input_tokens"], span["cache_read_tokens"], span["cache_write_tokens"]) == (total, 3, 2)
    assert span["cost_usd"] == pytest.approx(expected_cost("bedrock", SONNET, total, u["outputTokens"], cache_read=3, cache_write=2), rel=1e-9)


def test_converse_stream_events_and_usage(bedrock_plumb, mock):
    seed = {"X-Mock-Seed": "8102"}
    r = through(bedrock_plumb, headers=seed).converse_stream(modelId=NOVA, messages=MESSAGES)
    events = list(r["stream"])
    d = list(direct(mock, headers=seed).converse_stream(modelId=NOVA, messages=MESSAGES)["stream"])
    assert events == d
    usage = events[-1]["metadata"]["usage"]
    span = span_of(bedrock_plumb, r)
    assert span["stream"] is True and span["model"] == NOVA and span["finish_reason"] == "end_turn"
    assert (span["input_tokens"], span["output_tokens"]) == (usage["inputTokens"], usage["outputTokens"])
    assert span["cost_usd"] == pytest.approx(expected_cost("bedrock", NOVA, usage["inputTokens"], usage["outputTokens"]), rel=1e-9)
    assert span["ttft_ms"] > 0
    assert "contentBlockDelta: " in span["response_body"] and "metadata: " in span["response_body"]


def test_invoke_model_claude(bedrock_plumb, mock):
    r = through(bedrock_plumb).invoke_model(modelId=HAIKU, body=json.dumps(CLAUDE_BODY))
    body = json.loads(r["body"].read())
    span = span_of(bedrock_plumb, r)
    u = body["usage"]
    assert span["model_requested"] == HAIKU and span["operation"] == "chat" and span["stream"] is False
    assert (span["input_tokens"], span["output_tokens"]) == (u["input_tokens"], u["output_tokens"])
    assert int(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"]) == u["input_tokens"]
    assert span["cost_usd"] == pytest.approx(expected_cost("bedrock", HAIKU, u["input_tokens"], u["output_tokens"]), rel=1e-9)


def test_invoke_model_with_response_stream(bedrock_plumb, mock):
    seed = {"X-Mock-Seed": "8103"}
    r = through(bedrock_plumb, headers=seed).invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(CLAUDE_BODY))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in r["body"]]
    d = [json.loads(e["chunk"]["bytes"]) for e in direct(mock, headers=seed).invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(CLAUDE_BODY))["body"]]
    assert chunks == d
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    span = span_of(bedrock_plumb, r)
    assert span["stream"] is True and span["finish_reason"] == "end_turn"
    assert (span["input_tokens"], span["output_tokens"]) == (metrics["inputTokenCount"], metrics["outputTokenCount"])


def test_llama_invoke_counts_from_the_body(bedrock_plumb):
    r = through(bedrock_plumb).invoke_model(modelId="meta.llama3-8b-instruct-v1:0", body=json.dumps({"prompt": "one two three four", "max_gen_len": 50}))
    body = json.loads(r["body"].read())
    span = span_of(bedrock_plumb, r)
    assert (span["input_tokens"], span["output_tokens"]) == (body["prompt_token_count"], body["generation_token_count"])
    assert span["finish_reason"] == "stop"


def test_corrupt_frame_is_passed_on_and_recorded_without_usage(bedrock_plumb):
    r = raw_signed(bedrock_plumb.url, "/bedrock/model/amazon.nova-pro-v1%3A0/converse-stream", {"messages": MESSAGES},
                   headers={"X-Mock-Fault": "malformed"})
    assert r.status_code == 200 and sha256(r.content) == r.headers["x-mock-body-sha256"]
    span = bedrock_plumb.span(r.headers["plumb-span-id"])
    assert span["status"] == 200 and "input_tokens" not in span
    ok = through(bedrock_plumb).converse(modelId=NOVA, messages=MESSAGES)     # still serving
    assert ok["stopReason"] == "end_turn"


def test_plumbs_key_is_checked_by_the_upstream(tmp_path, mock):
    """Plumb signing with a wrong secret: AWS's own 403 comes back, recorded as auth_failed."""
    p = start_plumb(tmp_path, mock, bedrock_config(mock), env={**PLUMB_ENV, "AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    try:
        with pytest.raises(Exception) as refused:
            through(p).converse(modelId=NOVA, messages=MESSAGES)
        err = refused.value.response
        assert err["Error"]["Code"] == "InvalidSignatureException"
        span = p.span(err["ResponseMetadata"]["HTTPHeaders"]["plumb-span-id"])
        assert span["status"] == 403 and span["error_type"] == "auth_failed"
    finally:
        stop(p.proc)


def test_without_aws_credentials_only_api_keys_go_through(tmp_path, mock):
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "HOME": str(tmp_path)}
    p = start_plumb(tmp_path, mock, bedrock_config(mock), env=env)
    try:
        r = raw_signed(p.url, "/bedrock/model/amazon.nova-pro-v1%3A0/converse", {"messages": MESSAGES})
        assert r.status_code == 403 and r.json()["error"]["code"] == "aws_credentials_missing"
        ok = httpx.post(f"{p.url}/bedrock/model/amazon.nova-pro-v1%3A0/converse", json={"messages": MESSAGES},
                        headers={"Authorization": "Bearer mock-bedrock-api-key"})
        assert ok.status_code == 200 and ok.json()["stopReason"] == "end_turn"
        assert p.span(ok.headers["plumb-span-id"])["input_tokens"] > 0
    finally:
        stop(p.proc)


def test_govcloud_region_is_priced_from_its_entry(tmp_path, mock):
    p = start_plumb(tmp_path, mock, bedrock_config(mock, region="us-gov-west-1"), env=PLUMB_ENV)
    try:
        # The mock checks signatures for us-east-1: the region only chooses the price here.
        r = httpx.post(f"{p.url}/bedrock/model/amazon.nova-pro-v1%3A0/converse", json={"messages": MESSAGES},
                       headers={"Authorization": "Bearer mock-bedrock-api-key"})
        u = r.json()["usage"]
        span = p.span(r.headers["plumb-span-id"])
        gov = expected_cost("bedrock", "us-gov-west-1/" + NOVA, u["inputTokens"], u["outputTokens"])
        assert gov != expected_cost("bedrock", NOVA, u["inputTokens"], u["outputTokens"])
        assert span["cost_usd"] == pytest.approx(gov, rel=1e-9)
    finally:
        stop(p.proc)


def test_keys_and_signatures_never_reach_the_disk(tmp_path, mock):
    p = start_plumb(tmp_path, mock, bedrock_config(mock), env=PLUMB_ENV)
    try:
        a = through(p).converse(modelId=NOVA, messages=MESSAGES)
        b = through(p).converse(modelId=SONNET, messages=MESSAGES)
        other = through(p, aws_access_key_id="AKIDSOMEONEELSE", aws_secret_access_key="x").converse(modelId=NOVA, messages=MESSAGES)
        hashes = [span_of(p, r)["api_key_hash"] for r in (a, b, other)]
        assert hashes[0] == hashes[1] != hashes[2]        # per caller's access key, whatever the signature
    finally:
        stop(p.proc)
    # Plumb's session token goes upstream in clear (the secret never does; the caller's key id is
    # only fingerprinted); neither is in the store, nor any signature.
    for secret in ("SESSION-DO-NOT-STORE", "AKIDCALLERONLY", "AKIDMOCKBEDROCK", "Signature="):
        found = subprocess.run(["grep", "-r", "-l", "-a", secret, str(p.data)], capture_output=True, text=True)
        assert found.stdout == "", f"{secret} reached the disk in: {found.stdout}"


def test_only_model_calls_are_signed(bedrock_plumb):
    for method, path in (("POST", "/bedrock/async-invoke"), ("GET", "/bedrock/model/amazon.nova-pro-v1%3A0/converse"),
                         ("POST", "/bedrock/model/amazon.nova-pro-v1%3A0/converse/extra"), ("POST", "/bedrock/guardrail/g1/version/1/apply")):
        r = httpx.request(method, f"{bedrock_plumb.url}{path}", json={"messages": MESSAGES})
        assert r.status_code == 404 and r.json()["error"]["code"] == "operation_not_signed", (method, path, r.text)


def test_repeated_content_type_is_signed_as_sent(bedrock_plumb):
    body = json.dumps({"messages": MESSAGES}).encode()
    r = httpx.post(f"{bedrock_plumb.url}/bedrock/model/amazon.nova-pro-v1%3A0/converse", content=body,
                   headers=[("Content-Type", "application/json"), ("Content-Type", "application/json")])
    assert r.status_code == 200, r.text


def test_an_exception_inside_the_stream_is_recorded(bedrock_plumb):
    r = through(bedrock_plumb, headers={"X-Mock-Fault": "stream-exception"}).converse_stream(modelId=NOVA, messages=MESSAGES)
    with pytest.raises(Exception) as thrown:
        list(r["stream"])
    assert "throttlingException" in str(thrown.value) or "Too many requests" in str(thrown.value)
    span = span_of(bedrock_plumb, r)
    assert span["status"] == 200 and span["error_type"] == "rate_limited" and "input_tokens" not in span


def test_plumb_keys_as_the_access_key_id(tmp_path, mock):
    from test_control import create_key
    data = tmp_path / "data"
    key = create_key(data, "bedrock-team")
    p = start_plumb(tmp_path, mock, bedrock_config(mock) + "[control]\nrequire_key = true\n", env=PLUMB_ENV, data=data)
    try:
        ok = through(p, aws_access_key_id=key, aws_secret_access_key="anything").converse(modelId=NOVA, messages=MESSAGES)
        span = span_of(p, ok)
        assert span["properties"]["plumb_key"] == "bedrock-team" and span["input_tokens"] > 0
        r = raw_signed(p.url, "/bedrock/model/amazon.nova-pro-v1%3A0/converse", {"messages": MESSAGES}, key="sk-plumb-" + "x" * 40)
        assert r.status_code == 401, r.text
        r = raw_signed(p.url, "/bedrock/model/amazon.nova-pro-v1%3A0/converse", {"messages": MESSAGES})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"      # no Plumb key at all
    finally:
        stop(p.proc)
