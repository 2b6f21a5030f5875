"""Google Vertex AI through plumb serve: google-genai with vertexai=True and the anthropic SDK's
AnthropicVertex, pointed at Plumb. Gemini and Claude answers come back as the mock sent them, the
span has the model the path names, exact tokens and the catalog's Vertex price; the caller's OAuth
token goes on, or, with a service account, Plumb mints its own (an RS256 JWT the mock's token
endpoint checks) and nothing of either reaches the disk."""
import json
import subprocess

import httpx2 as httpx
import pytest
from anthropic import AnthropicVertex
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from conftest import MOCK, expected_cost, sha256, spawn, start_plumb, stop

TOKEN = "ya29.mock-vertex-token"
PROJECT, LOCATION = "plumb-test", "us-central1"
GEMINI = "gemini-2.5-flash"
CLAUDE = "claude-sonnet-4-5@20250929"
PATH = f"/v1/projects/{PROJECT}/locations/{LOCATION}/publishers"


def vertex_config(mock, extra=""):
    return f'[providers.vertex]\nbase_url = "{mock}/vertex"\napi = "vertex"\n{extra}'


@pytest.fixture(scope="module")
def vertex_plumb(tmp_path_factory, mock):
    p = start_plumb(tmp_path_factory.mktemp("vertex"), mock, vertex_config(mock))
    yield p
    stop(p.proc)


def gemini(base, token=TOKEN):
    return genai.Client(vertexai=True, project=PROJECT, location=LOCATION, credentials=Credentials(token=token),
                        http_options=types.HttpOptions(base_url=f"{base}/vertex/"))


def claude(base, token=TOKEN):
    return AnthropicVertex(region=LOCATION, project_id=PROJECT, access_token=token, base_url=f"{base}/vertex/v1", max_retries=0)


def span_of(p, response):
    return p.span(response.sdk_http_response.headers["plumb-span-id"])


def test_gemini_generate_exact_span_and_cost(vertex_plumb, mock):
    seed = types.GenerateContentConfig(http_options=types.HttpOptions(headers={"X-Mock-Seed": "9101"}))
    g, m = gemini(vertex_plumb.url), gemini(mock)      # held: a client closes when it is collected
    r = g.models.generate_content(model=GEMINI, contents="Say hello to the proxy please", config=seed)
    d = m.models.generate_content(model=GEMINI, contents="Say hello to the proxy please", config=seed)
    assert r.model_dump(exclude={"sdk_http_response"}) == d.model_dump(exclude={"sdk_http_response"})
    span = span_of(vertex_plumb, r)
    u = r.usage_metadata
    assert span["provider"] == "vertex" and span["operation"] == "generate" and span["stream"] is False
    assert span["model_requested"] == GEMINI and span["model"] == r.model_version
    assert span["endpoint"] == f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{GEMINI}:generateContent"
    assert (span["input_tokens"], span["output_tokens"]) == (u.prompt_token_count, u.candidates_token_count + (u.thoughts_token_count or 0))
    assert span["cost_usd"] == pytest.approx(expected_cost("vertex", GEMINI, u.prompt_token_count, span["output_tokens"]), rel=1e-9)
    assert len(span["api_key_hash"]) == 16


def test_gemini_stream(vertex_plumb):
    g = gemini(vertex_plumb.url)
    chunks = list(g.models.generate_content_stream(model=GEMINI, contents="Say hello please"))
    u = chunks[-1].usage_metadata
    span = span_of(vertex_plumb, chunks[-1])
    assert span["stream"] is True and span["ttft_ms"] > 0
    assert (span["input_tokens"], span["output_tokens"]) == (u.prompt_token_count, u.candidates_token_count + (u.thoughts_token_count or 0))


def test_gemini_bytes_are_relayed_untouched(vertex_plumb):
    for op, query in ((":generateContent", ""), (":streamGenerateContent", "?alt=sse"), (":streamGenerateContent", "")):
        r = httpx.post(f"{vertex_plumb.url}/vertex{PATH}/google/models/{GEMINI}{op}{query}",
                       json={"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and sha256(r.content) == r.headers["x-mock-body-sha256"], (op, query)
        assert vertex_plumb.span(r.headers["plumb-span-id"])["input_tokens"] > 0, (op, query)


@pytest.mark.parametrize("stream", [False, True])
def test_claude_on_vertex(vertex_plumb, stream):
    c = claude(vertex_plumb.url)
    if stream:
        with c.messages.stream(model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "Say hello please"}]) as s:
            message = s.get_final_message()
            span_id = s.response.headers["plumb-span-id"]
    else:
        raw = c.messages.with_raw_response.create(model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "Say hello please"}])
        message, span_id = raw.parse(), raw.headers["plumb-span-id"]
    span = vertex_plumb.span(span_id)
    u = message.usage
    assert span["operation"] == "messages" and span["stream"] is stream and span["model_requested"] == CLAUDE
    assert span["endpoint"].endswith(f"/publishers/anthropic/models/{CLAUDE}:{'streamRawPredict' if stream else 'rawPredict'}")
    assert (span["input_tokens"], span["output_tokens"]) == (u.input_tokens, u.output_tokens)
    assert span["finish_reason"] == "end_turn"
    assert span["cost_usd"] == pytest.approx(expected_cost("vertex", CLAUDE, u.input_tokens, u.output_tokens), rel=1e-9)


def test_an_invalid_token_is_googles_401(vertex_plumb):
    g = gemini(vertex_plumb.url, token="ya29.expired")
    with pytest.raises(Exception) as refused:
        g.models.generate_content(model=GEMINI, contents="hi")
    assert getattr(refused.value, "code", None) == 401
    r = httpx.post(f"{vertex_plumb.url}/vertex{PATH}/google/models/{GEMINI}:generateContent", json={"contents": []},
                   headers={"Authorization": "Bearer ya29.expired"})
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    span = vertex_plumb.span(r.headers["plumb-span-id"])
    assert span["status"] == 401 and span["error_type"] == "auth_failed"


@pytest.fixture()
def service_account(tmp_path):
    """An RSA key pair, a mock that trusts its public key, and the key file Plumb is given."""
    key, pub = tmp_path / "key.pem", tmp_path / "pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    proc, url = spawn([MOCK, "--listen", "127.0.0.1:0", "--google-public-key", pub])

    def key_file(name, pem_path=key):
        f = tmp_path / name
        f.write_text(json.dumps({"type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
                                 "private_key": pem_path.read_text(), "client_email": f"plumb@{PROJECT}.iam.gserviceaccount.com",
                                 "token_uri": f"{url}/vertex/token"}))
        return f
    yield url, key_file, key
    stop(proc)


def test_service_account_tokens_replace_the_callers(tmp_path, service_account):
    mock_url, key_file, key = service_account
    p = start_plumb(tmp_path, mock_url, vertex_config(mock_url, f'service_account_file = "{key_file("sa.json")}"\n'))
    try:
        # The caller's own token is no good upstream; Plumb's minted one is sent instead.
        direct, through = gemini(mock_url, token="caller-placeholder"), gemini(p.url, token="caller-placeholder")
        with pytest.raises(Exception):
            direct.models.generate_content(model=GEMINI, contents="hi")
        first = through.models.generate_content(model=GEMINI, contents="Say hello please")
        second = claude(p.url, token="caller-placeholder").messages.with_raw_response.create(
            model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "hello"}])
        assert first.usage_metadata.prompt_token_count > 0 and second.parse().usage.input_tokens > 0
        assert span_of(p, first)["status"] == 200 and p.span(second.headers["plumb-span-id"])["status"] == 200
        for _ in range(3):
            through.models.generate_content(model=GEMINI, contents="again")
        assert httpx.get(f"{mock_url}/vertex/_grants").json()["grants"] == 1      # one token, cached
    finally:
        stop(p.proc)
    for secret in ("ya29.minted", "caller-placeholder", key.read_text().splitlines()[1]):
        found = subprocess.run(["grep", "-r", "-l", "-a", secret, str(p.data)], capture_output=True, text=True)
        assert found.stdout == "", f"{secret} reached the disk in: {found.stdout}"


def test_a_refused_service_account_is_a_502_recorded(tmp_path, service_account):
    mock_url, key_file, _ = service_account
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(other)], check=True, capture_output=True)
    p = start_plumb(tmp_path, mock_url, vertex_config(mock_url, f'service_account_file = "{key_file("wrong.json", other)}"\n'))
    try:
        r = httpx.post(f"{p.url}/vertex{PATH}/google/models/{GEMINI}:generateContent", json={"contents": []},
                       headers={"Authorization": "Bearer anything"})
        assert r.status_code == 502 and r.json()["error"]["code"] == "token_unavailable"
        assert "Invalid JWT Signature" in r.json()["error"]["message"]
        span = p.span(r.headers["plumb-span-id"])
        assert span["error_type"] == "token_unavailable" and span["provider"] == "vertex"
        assert httpx.get(f"{p.url}/_plumb/health").status_code == 200
    finally:
        stop(p.proc)


def test_a_bad_service_account_file_stops_serve(tmp_path, mock):
    from conftest import serve_refuses
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "service_account", "client_email": "x@y", "private_key": "not a key"}))
    code, err = serve_refuses(tmp_path, mock, vertex_config(mock, f'service_account_file = "{bad}"\n'))
    assert code not in (None, 0) and "private_key is not a PEM private key" in err


def test_the_mocks_token_endpoint_takes_google_auths_own_jwts(service_account):
    """The mock's JWT check against an implementation nobody here wrote: google-auth's signer.
    Plumb's JWTs pass the same check (test_service_account_tokens_replace_the_callers)."""
    import time
    from google.auth import crypt, jwt
    mock_url, key_file, key = service_account
    claims = {"iss": f"plumb@{PROJECT}.iam.gserviceaccount.com", "scope": "https://www.googleapis.com/auth/cloud-platform",
              "aud": f"{mock_url}/vertex/token", "iat": int(time.time()), "exp": int(time.time()) + 3600}
    good = jwt.encode(crypt.RSASigner.from_string(key.read_text(), "k1"), claims).decode()
    r = httpx.post(f"{mock_url}/vertex/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": good})
    assert r.status_code == 200 and r.json()["access_token"].startswith("ya29.minted")
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    r = httpx.post(f"{mock_url}/vertex/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": tampered})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_an_encrypted_key_is_refused_not_prompted_for(tmp_path, mock):
    from conftest import serve_refuses
    key = tmp_path / "enc.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256", "-pass", "pass:secret",
                    "-out", str(key)], check=True, capture_output=True)
    f = tmp_path / "enc.json"
    f.write_text(json.dumps({"type": "service_account", "client_email": "x@p.iam.gserviceaccount.com", "private_key": key.read_text()}))
    code, err = serve_refuses(tmp_path, mock, vertex_config(mock, f'service_account_file = "{f}"\n'))
    assert code not in (None, 0) and "private_key is not a PEM private key" in err


def test_a_key_file_that_is_no_file_stops_serve_at_once(tmp_path, mock):
    from conftest import serve_refuses
    code, err = serve_refuses(tmp_path, mock, vertex_config(mock, 'service_account_file = "/dev/zero"\n'), timeout=10)
    assert code not in (None, 0) and "/dev/zero is not a regular file" in err
