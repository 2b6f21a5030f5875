"""Plumb keys, budgets and rate limits (issue 25) against the real `plumb serve` and
`plumb-mock`, with the official SDKs: a Plumb key works end to end while the upstream sees the
provider key; revoked and rotated keys are refused at once; budgets and limits answer 429 with
their own codes and headers, still record spans, and hold under concurrency and restarts; no key
or provider secret reaches the disk."""
import concurrent.futures
import json
import math
import subprocess
import time
import urllib.request

import anthropic
import httpx2 as httpx
import openai
import pytest

from conftest import PLUMB, PRICING, Plumb, spawn, stop

PROVIDER_SECRET = "sk-upstream-PROVIDER-secret-7781"
ANTHROPIC_SECRET = "sk-ant-upstream-secret-5150"
MESSAGES = [{"role": "user", "content": "Say hello to the proxy please"}]


def serve(tmp_path, mock, extra="", data=None):
    """plumb serve with Plumb holding the provider keys for openai and anthropic."""
    data = data or tmp_path / "data"
    config = tmp_path / "plumb.toml"
    config.write_text(extra + f"""
[providers.openai]
base_url = "{mock}"
api_key_env = "PLUMB_TEST_OPENAI_KEY"

[providers.anthropic]
base_url = "{mock}"
api_key_env = "PLUMB_TEST_ANTHROPIC_KEY"

[providers.mistral]
base_url = "{mock}"
""")
    env = {"PLUMB_TEST_OPENAI_KEY": PROVIDER_SECRET, "PLUMB_TEST_ANTHROPIC_KEY": ANTHROPIC_SECRET}
    proc, url = spawn([PLUMB, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0"], env=env)
    return Plumb(proc, url, data, config)


def keys(data, *args):
    """`plumb keys ...`; returns (exit code, stdout, stderr)."""
    r = subprocess.run([str(PLUMB), "keys", *args, "--data", str(data)], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def create_key(data, name, *opts):
    code, out, err = keys(data, "create", "--name", name, *opts)
    assert code == 0, err
    assert out.startswith("sk-plumb-") and len(out) == 49, out
    return out


def post(plumb, path, body, headers):
    if "_mock/echo" in path:
        headers = {**headers, "Plumb-Omit-Bodies": "true"}
    return httpx.post(f"{plumb.url}{path}", json=body, headers=headers, timeout=30)


def oai(plumb, key):
    return openai.OpenAI(base_url=f"{plumb.url}/v1", api_key=key, max_retries=0)


def test_a_plumb_key_works_end_to_end_and_the_upstream_sees_only_the_provider_key(tmp_path, mock):
    data = tmp_path / "data"
    key = create_key(data, "search-team")
    p = serve(tmp_path, mock, data=data)
    try:
        raw = oai(p, key).chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                    extra_headers={"Plumb-Property-Plumb_Key": "someone-else"})
        completion = raw.parse()
        assert completion.choices[0].message.content.startswith("The mock upstream")
        span = p.span(raw.headers["plumb-span-id"])
        assert span["status"] == 200 and span["input_tokens"] == completion.usage.prompt_tokens
        assert span["properties"] == {"plumb_key": "search-team"}      # the caller's own claim is dropped
        assert len(span["api_key_hash"]) == 16

        # What the upstream receives: the provider key, in the provider's header; never the Plumb key.
        # (The mock's echo sends the headers back in its body: those bodies are not stored, as a
        # real provider never answers with its caller's key.)
        seen = post(p, "/openai/v1/_mock/echo", {"x": 1}, {"Authorization": f"Bearer {key}"}).json()["headers"]
        assert seen.get("authorization") == f"Bearer {PROVIDER_SECRET}", seen
        assert key not in json.dumps(seen)
        seen = post(p, "/anthropic/v1/_mock/echo", {"x": 1}, {"x-api-key": key, "Authorization": "Bearer sk-mine"}).json()["headers"]
        assert seen.get("x-api-key") == ANTHROPIC_SECRET and "authorization" not in seen, seen
        # As Plumb-Client-Key, beside the caller's own key, for a provider Plumb holds no key for:
        # the caller's key goes on; as the only credential there, it is refused.
        seen = post(p, "/mistral/v1/_mock/echo", {"x": 1}, {"Plumb-Client-Key": key, "Authorization": "Bearer sk-mistral-own"}).json()
        assert seen["headers"]["authorization"] == "Bearer sk-mistral-own" and key not in json.dumps(seen)
        # A Plumb key in any credential header is found, and only the caller's own key goes on.
        seen = post(p, "/mistral/v1/_mock/echo", {"x": 1}, {"Authorization": "Bearer sk-mistral-own", "x-api-key": key}).json()
        assert seen["headers"]["authorization"] == "Bearer sk-mistral-own" and key not in json.dumps(seen), seen
        r = post(p, "/mistral/v1/chat/completions", {"model": "mistral-small", "messages": MESSAGES}, {"Authorization": f"Bearer {key}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "provider_key_missing", r.text

        # The anthropic SDK with the Plumb key as its API key.
        msg = anthropic.Anthropic(base_url=f"{p.url}/anthropic", api_key=key, max_retries=0).messages.create(
            model="claude-3-5-haiku-20241022", max_tokens=50, messages=MESSAGES)
        assert msg.usage.output_tokens > 0

        # Revoked: refused on the very next call, by the server that is running.
        assert keys(data, "revoke", "search-team")[0] == 0
        with pytest.raises(openai.AuthenticationError) as e:
            oai(p, key).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert e.value.status_code == 401 and "not a live key" in e.value.body["message"]
        assert keys(data, "revoke", "search-team")[0] == 1
    finally:
        stop(p.proc)
    # Nothing on disk holds a key or a provider secret (WAL, segments, bodies, catalog).
    for f in data.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            for secret in (key, PROVIDER_SECRET, ANTHROPIC_SECRET, key[len("sk-plumb-"):]):
                assert secret.encode() not in blob, f"{secret[:12]}… in {f}"
            assert (f.stat().st_mode & 0o077) == 0, f"{f} is readable by others"


def test_rotation_list_restrictions_and_the_audit_chain(tmp_path, mock):
    data = tmp_path / "data"
    key = create_key(data, "ads", "--models", "gpt-4o*", "--providers", "openai", "--limit", "600rpm", "--budget", "25/week")
    assert keys(data, "create", "--name", "ads")[0] == 1                       # a live name is taken
    code, _, err = keys(data, "create", "--name", "x", "--budget", "lots/month")
    assert code == 1 and "budget 'lots/month'" in err
    p = serve(tmp_path, mock, data=data)
    try:
        c = oai(p, key)
        assert c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).usage.total_tokens > 0
        with pytest.raises(openai.PermissionDeniedError) as e:
            c.chat.completions.create(model="gpt-3.5-turbo", messages=MESSAGES)
        assert e.value.body["code"] == "model_not_allowed" and "gpt-3.5-turbo" in e.value.body["message"]
        r = post(p, "/anthropic/v1/messages", {"model": "claude-3-5-haiku-20241022", "max_tokens": 5, "messages": MESSAGES}, {"x-api-key": key})
        assert r.status_code == 403 and r.json()["error"]["code"] == "provider_not_allowed"
        # Refusals after the checks are spans with the key's attribution.
        span = p.span(r.headers["plumb-span-id"])
        assert span["error_type"] == "provider_not_allowed" and span["status"] == 403

        code, new_key, _ = keys(data, "rotate", "ads")
        assert code == 0 and new_key != key
        with pytest.raises(openai.AuthenticationError):
            c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert oai(p, new_key).chat.completions.create(model="gpt-4o", messages=MESSAGES).model == "gpt-4o"
        # Key changes are audit records, and spans of operation 'admin' that plumb query lists.
        sql = ("SELECT properties['audit_action'] AS action, properties['plumb_key'] AS k, method FROM spans "
               "WHERE operation = 'admin' ORDER BY ts_start")
        deadline = time.time() + 10
        while True:
            admin = httpx.post(f"{p.url}/_plumb/query", json={"sql": sql}).json()
            if len(admin) >= 2 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert admin == [{"action": "key.create", "k": "ads", "method": "ADMIN"}, {"action": "key.rotate", "k": "ads", "method": "ADMIN"}]
        # Shaped like a Plumb key but unknown: refused, never forwarded.
        r = post(p, "/v1/chat/completions", {"model": "gpt-4o", "messages": MESSAGES}, {"Authorization": "Bearer sk-plumb-" + "A" * 40})
        assert r.status_code == 401
    finally:
        stop(p.proc)
    listed = json.loads(keys(data, "list", "--all", "--format", "json")[1])
    assert sorted((k["name"], k["revoked_at"] is None) for k in listed) == [("ads", False), ("ads", True)]
    live = [k for k in listed if k["revoked_at"] is None][0]
    assert live["budget"] == "25.00/week" and live["requests_per_minute"] == 600 and live["models"] == ["gpt-4o*"]
    assert new_key.startswith(live["prefix"]) and len(live["prefix"]) == len("sk-plumb-") + 4
    r = subprocess.run([str(PLUMB), "verify", "--data", str(data)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    # Tampering with the audit trail is caught by verify.
    import sqlite3
    db = sqlite3.connect(data / "catalog.sqlite")
    db.execute("UPDATE audit SET subject = 'someone' WHERE id = 1")
    db.commit()
    db.close()
    r = subprocess.run([str(PLUMB), "verify", "--data", str(data)], capture_output=True, text=True)
    assert r.returncode == 1 and "audit record 1" in r.stdout, r.stdout


def test_require_key_refuses_calls_without_one(tmp_path, mock):
    p = serve(tmp_path, mock, extra="[control]\nrequire_key = true\n")
    try:
        with pytest.raises(openai.AuthenticationError) as e:
            oai(p, "sk-my-own-openai-key").chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert "requires a Plumb key" in e.value.body["message"]
        key = create_key(p.data, "svc")
        assert oai(p, key).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices
    finally:
        stop(p.proc)


def call_cost(model, inp, out):
    price = PRICING["openai"][model]
    return inp * price["input"] + out * price["output"]


def estimate(body_bytes, max_tokens, model="gpt-4o-mini"):
    """Plumb's in-flight estimate (schemas/config.md, Budgets)."""
    price = PRICING["openai"][model]
    return math.ceil(body_bytes / 4) * price["input"] + max_tokens * price["output"]


def test_concurrent_streams_at_a_budgets_edge_overshoot_by_less_than_one_call(tmp_path, mock):
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 40, "stream": True}
    e = estimate(len(json.dumps(body).encode()), 40)     # json.dumps matches httpx's bytes within a few
    amount = 5.5 * e
    p = serve(tmp_path, mock, extra=f"""
[[budgets]]
name = "search-month"
scope = {{ property = "team", value = "search" }}
amount_usd = {amount:.9f}
period = "month"
""")
    try:
        def one(i):
            with httpx.stream("POST", f"{p.url}/v1/chat/completions", json=body, timeout=30,
                              headers={"Authorization": "Bearer sk-own", "Plumb-Property-Team": "search", "X-Mock-Chunk-Delay-Ms": "40"}) as r:
                text = r.read().decode()
                return r.status_code, r.headers.get("plumb-span-id"), r.headers.get("retry-after"), text
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            results = list(ex.map(one, range(20)))
        ok = [r for r in results if r[0] == 200]
        refused = [r for r in results if r[0] == 429]
        assert len(ok) + len(refused) == 20
        assert 1 <= len(ok) < 20, [r[0] for r in results]
        for status, span_id, retry, text in refused:
            err = json.loads(text)["error"]
            assert err["code"] == "budget_exceeded" and "search-month" in err["message"]
            assert int(retry) > 0
        spans = [p.span(r[1]) for r in results]
        spent = sum(s.get("cost_usd") or 0 for s in spans)
        assert all(s["properties"] == {"team": "search"} for s in spans)
        assert sum(1 for s in spans if s.get("error_type") == "budget_exceeded") == len(refused)
        # The documented bound: below the amount plus one call's estimate.
        assert spent < amount + e, (spent, amount, e, len(ok))
        # Another team's calls are not in the budget's scope.
        r = post(p, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": MESSAGES},
                 {"Authorization": "Bearer sk-own", "Plumb-Property-Team": "ads"})
        assert r.status_code == 200
        r = post(p, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": MESSAGES},
                 {"Authorization": "Bearer sk-own", "Plumb-Property-Team": "search"})
        if spent >= amount:
            assert r.status_code == 429
    finally:
        stop(p.proc)


def test_a_spent_budget_stays_spent_across_a_restart(tmp_path, mock):
    extra = """
[[budgets]]
scope = { user = "u-budget" }
amount_usd = 0.000005
period = "day"
"""
    headers = {"Authorization": "Bearer sk-own", "Plumb-User-Id": "u-budget"}
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 1}
    p = serve(tmp_path, mock, extra=extra)
    try:
        statuses = [post(p, "/v1/chat/completions", body, headers).status_code for _ in range(6)]
        assert statuses[0] == 200 and statuses[-1] == 429, statuses
        r = post(p, "/v1/chat/completions", body, headers)
        # Retry-After: seconds to the end of the UTC day.
        now = time.time()
        assert abs(int(r.headers["retry-after"]) - (86400 - now % 86400)) < 5
    finally:
        stop(p.proc)
    p = serve(tmp_path, mock, extra=extra)
    try:
        r = post(p, "/v1/chat/completions", body, headers)
        assert r.status_code == 429 and r.json()["error"]["code"] == "budget_exceeded", r.text
        assert post(p, "/v1/chat/completions", body, {"Authorization": "Bearer sk-own", "Plumb-User-Id": "u-other"}).status_code == 200
    finally:
        stop(p.proc)
    # The policy was recorded once (the second start ran the same one), as an audit span.
    r = subprocess.run([str(PLUMB), "query", "--data", str(tmp_path / "data"), "--format", "json",
                        "SELECT properties['audit_detail'] AS d FROM spans WHERE properties['audit_action'] = 'policy.change'"],
                       capture_output=True, text=True, timeout=60)
    rows = json.loads(r.stdout)
    assert len(rows) == 1 and rows[0]["d"].startswith("budget budget 1: 0.000005/day for user 'u-budget' ("), r.stdout + r.stderr


def test_a_rate_limit_admits_its_count_per_minute_and_a_rolling_budget_reopens(tmp_path, mock):
    """100 rpm under 300 calls in a few seconds: exactly 100 pass in the minute, with OpenAI's
    headers; the minute after, calls pass again. A rolling 1m budget spent in the same minute
    opens again too. A tokens-per-minute limit counts what calls used."""
    key = create_key(tmp_path / "data", "tpm-key", "--limit", "60tpm")
    p = serve(tmp_path, mock, extra="""
[[limits]]
name = "batch"
scope = { user = "batch-job" }
requests_per_minute = 100

[[budgets]]
name = "roll"
scope = { user = "roller" }
amount_usd = 0.000005
period = "1m"
""")
    try:
        body = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 1}
        headers = {"Authorization": "Bearer sk-own", "Plumb-User-Id": "batch-job"}
        with httpx.Client(timeout=30) as c, concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda _: c.post(f"{p.url}/v1/chat/completions", json=body, headers=headers), range(300)))
        start = time.time()
        ok = [r for r in rs if r.status_code == 200]
        limited = [r for r in rs if r.status_code == 429]
        assert len(ok) == 100 and len(limited) == 200, (len(ok), len(limited))
        remaining = sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in ok)
        assert remaining == list(range(100)) and all(r.headers["x-ratelimit-limit-requests"] == "100" for r in ok)
        assert all(r.json()["error"]["code"] == "rate_limited" for r in limited)
        waits = [int(r.headers["retry-after"]) for r in limited]
        assert 1 <= min(waits) and max(waits) <= 60
        # The upstream's own x-ratelimit-* (the mock sends none) never doubles Plumb's.
        assert all(list(r.headers.keys()).count("x-ratelimit-limit-requests") == 1 for r in ok[:5])

        roll = {"Authorization": "Bearer sk-own", "Plumb-User-Id": "roller"}
        statuses = [post(p, "/v1/chat/completions", body, roll).status_code for _ in range(6)]
        assert statuses[0] == 200 and statuses[-1] == 429, statuses

        # Tokens per minute: the key's 60 tokens go in a few calls (each uses ~20), then 429.
        tk = [oai_status(p, key) for _ in range(6)]
        assert tk[0] == 200 and tk[-1] == 429, tk

        time.sleep(max(0, start + max(waits) + 1 - time.time()))
        again = [post(p, "/v1/chat/completions", body, headers).status_code for _ in range(5)]
        assert again == [200] * 5
        assert post(p, "/v1/chat/completions", body, roll).status_code == 200
    finally:
        stop(p.proc)


def oai_status(p, key):
    try:
        oai(p, key).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=5)
        return 200
    except openai.RateLimitError as e:
        assert e.body["code"] == "rate_limited" and "tokens per minute" in e.body["message"]
        return 429
