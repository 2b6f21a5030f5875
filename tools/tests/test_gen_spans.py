"""tools/gen_spans.py writes valid span-schema-v1 lines with the promised shape, deterministically."""
import collections
import datetime as dt
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")  # in tools/requirements-test.txt

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "tools" / "gen_spans.py"
SCHEMA = json.loads((ROOT / "schemas" / "span.schema.json").read_text())
N = 2000
HEX = re.compile(r"^[0-9a-f]+$")


def generate(path, count=N, seed=7, *extra):
    subprocess.run([sys.executable, str(GEN), "--count", str(count), "--seed", str(seed), "--out", str(path),
                    *extra], check=True, capture_output=True, timeout=120)
    return [json.loads(line) for line in path.read_text().splitlines()]


def us(ts):
    """ISO 8601 'YYYY-MM-DDTHH:MM:SS.ffffffZ' -> integer µs since the epoch (no float rounding)."""
    d = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    return (d - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


@pytest.fixture(scope="module")
def spans(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("gen") / "spans.jsonl")


@pytest.fixture(scope="module")
def gen_module():
    spec = importlib.util.spec_from_file_location("gen_spans", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_line_validates_against_the_schema(spans):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    v = jsonschema.Draft202012Validator(SCHEMA)
    assert len(spans) == N
    for i, s in enumerate(spans):
        errors = [e.message for e in v.iter_errors(s)]
        assert not errors, f"line {i + 1}: {errors}"
        assert set(s) == set(SCHEMA["properties"]) - {"request_body", "response_body"}


def test_ids_are_well_formed(spans):
    assert len({s["span_id"] for s in spans}) == N
    for s in spans:
        sid = s["span_id"]
        assert len(sid) == 32 and HEX.match(sid)
        assert sid[12] == "7", "UUIDv7 version nibble"
        assert int(sid[16], 16) & 0b1100 == 0b1000, "RFC 9562 variant bits 10"
        assert int(sid[:12], 16) == us(s["ts_start"]) // 1000, "48-bit ms timestamp of ts_start"
        assert len(s["trace_id"]) == 32 and HEX.match(s["trace_id"])
        assert s["parent_span_id"] is None or (len(s["parent_span_id"]) == 16 and HEX.match(s["parent_span_id"]))
        assert len(s["api_key_hash"]) == 16 and HEX.match(s["api_key_hash"])
        assert s["session_id"] is None or re.match(r"^sess-[0-9a-f]{8}$", s["session_id"])
        assert s["user_id"] is None or 1 <= int(re.match(r"^user-(\d{4})$", s["user_id"]).group(1)) <= 5000
        for k in ("ts_start", "ts_end"):
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", s[k])


def test_latency_is_exactly_the_timestamp_difference(spans):
    for s in spans:
        assert s["latency_ms"] == (us(s["ts_end"]) - us(s["ts_start"])) / 1000
        assert 0 < s["upstream_ms"] <= s["latency_ms"]
        assert round(s["upstream_ms"] * 1000) / 1000 == s["upstream_ms"], "µs precision"
        if s["ttft_ms"] is not None:
            assert s["stream"] and s["ttft_ms"] <= s["upstream_ms"]
    starts = [us(s["ts_start"]) for s in spans]
    assert starts == sorted(starts), "emitted in ts_start order"


def test_catalog_and_observed_counts(spans, gen_module):
    assert len(set(gen_module.PROVIDERS)) == 8
    assert 35 <= len(gen_module.MODELS) <= 45
    providers = collections.Counter(s["provider"] for s in spans)
    assert set(providers) == {"openai", "anthropic", "gemini", "mistral", "groq", "together", "deepseek", "xai"}
    assert 30 <= len({s["model_requested"] for s in spans}) <= 45
    top = providers.most_common(1)[0]
    assert top[0] == "openai" and top[1] > N * 0.3, "heavy head"
    assert sum(s["model"] != s["model_requested"] for s in spans) > 0, "some dated model variants"

    def share(pred):
        return sum(1 for s in spans if pred(s)) / N
    assert 0.02 <= share(lambda s: s["user_id"] is None) <= 0.09
    assert 0.20 <= share(lambda s: s["session_id"] is None) <= 0.40
    assert 0.06 <= share(lambda s: s["parent_span_id"] is not None) <= 0.14
    assert 0.30 <= share(lambda s: s["stream"]) <= 0.50
    assert 0.90 <= share(lambda s: s["status"] == 200) < 1.0
    assert 0.0 < share(lambda s: s["cost_usd"] is None) < 0.2
    assert len({s["api_key_hash"] for s in spans}) <= 50


def test_nulls_follow_the_outcome(spans, gen_module):
    unpriced = {m[1] for m in gen_module.M if m[4] is None}
    assert len(unpriced) == 3
    by_session = collections.defaultdict(set)
    for s in spans:
        if s["session_id"]:
            by_session[s["session_id"]].add(s["user_id"])
        failed = s["status"] != 200 or s["error_type"] is not None
        if s["status"] != 200:
            assert s["error_type"] is not None
        if failed:
            assert s["finish_reason"] is None and s["input_tokens"] is None and s["cost_usd"] is None
        else:
            assert s["input_tokens"] is not None and s["output_tokens"] is not None
            assert (s["finish_reason"] is None) == (s["operation"] == "embeddings")
            assert (s["cost_usd"] is None) == (s["model_requested"] in unpriced)
            assert (s["cache_read_tokens"] or 0) + (s["cache_write_tokens"] or 0) <= s["input_tokens"]
            assert (s["reasoning_tokens"] or 0) <= s["output_tokens"]
        if s["cost_usd"] is not None:
            assert s["cost_usd"] >= 0 and round(s["cost_usd"], 10) == s["cost_usd"]
        if not s["stream"]:
            assert s["ttft_ms"] is None
    assert all(len(users) == 1 for users in by_session.values()), "a session belongs to one user"
    assert max(collections.Counter(s["session_id"] for s in spans if s["session_id"]).values()) >= 3


def test_deterministic_for_a_seed(tmp_path):
    def digest(name, seed):
        p = tmp_path / name
        generate(p, 500, seed)
        return hashlib.sha256(p.read_bytes()).hexdigest()
    assert digest("a.jsonl", 11) == digest("b.jsonl", 11)
    assert digest("c.jsonl", 12) != digest("a.jsonl", 11)


def test_bodies_only_add_the_body_keys(tmp_path):
    plain = generate(tmp_path / "plain.jsonl", 500, 3)
    with_bodies = generate(tmp_path / "bodies.jsonl", 500, 3, "--bodies", "0.5")
    v = jsonschema.Draft202012Validator(SCHEMA)
    n_bodies = 0
    for a, b in zip(plain, with_bodies, strict=True):
        assert not list(v.iter_errors(b))
        if "request_body" in b:
            n_bodies += 1
            assert isinstance(b.pop("request_body"), str) and isinstance(b.pop("response_body"), str)
        assert a == b
    assert 150 <= n_bodies <= 350
