#!/usr/bin/env python3
"""A second, independent span generator (issue 24): the same span schema as tools/gen_spans.py,
but none of its choices, so that the benchmarks do not only measure data shaped the way the store
was tuned for. Written apart from gen_spans.py on purpose (no shared tables or helpers).

    gen_spans_independent.py --count N --seed S --out FILE.jsonl [--end 2026-10-31] [--days 30]

The shape the issue describes: 41 models over 8 providers with skewed traffic, 5,000 users with
ids like `usr_0b3ca931` and a share of spans without a user (12%), costs with up to 9 decimals,
random 32-hex span ids (not ordered by time), 30 days with a daily cycle, rows in time order.
No bodies. The output depends only on the arguments.
"""
import argparse
import datetime as dt
import sys

import numpy as np
import orjson

PROVIDERS = ["openai", "anthropic", "gemini", "mistral", "groq", "together", "deepseek", "xai"]
# 41 models: (provider index, name, USD per 1M input, per 1M output)
MODELS = [
    (0, "gpt-4o", 2.5, 10), (0, "gpt-4o-mini", 0.15, 0.6), (0, "gpt-4.1", 2, 8), (0, "gpt-4.1-mini", 0.4, 1.6),
    (0, "gpt-4.1-nano", 0.1, 0.4), (0, "gpt-5", 1.25, 10), (0, "gpt-5-mini", 0.25, 2), (0, "o3", 2, 8),
    (0, "o4-mini", 1.1, 4.4), (0, "text-embedding-3-small", 0.02, 0),
    (1, "claude-sonnet-4-5", 3, 15), (1, "claude-haiku-4-5", 1, 5), (1, "claude-opus-4-1", 15, 75),
    (1, "claude-3-7-sonnet-latest", 3, 15), (1, "claude-3-5-haiku-latest", 0.8, 4),
    (2, "gemini-2.5-pro", 1.25, 10), (2, "gemini-2.5-flash", 0.3, 2.5), (2, "gemini-2.5-flash-lite", 0.1, 0.4),
    (2, "gemini-2.0-flash-lite", 0.075, 0.3), (2, "text-embedding-004", 0.0, 0),
    (3, "mistral-large-latest", 2, 6), (3, "mistral-medium-latest", 0.4, 2), (3, "mistral-small-latest", 0.1, 0.3),
    (3, "codestral-latest", 0.3, 0.9), (3, "mistral-embed", 0.1, 0),
    (4, "llama-3.3-70b-versatile", 0.59, 0.79), (4, "llama-3.1-8b-instant", 0.05, 0.08),
    (4, "openai/gpt-oss-120b", 0.15, 0.75), (4, "qwen/qwen3-32b", 0.29, 0.59),
    (5, "meta-llama/Llama-3.3-70B-Instruct-Turbo", 0.88, 0.88), (5, "Qwen/Qwen2.5-72B-Instruct-Turbo", 1.2, 1.2),
    (5, "deepseek-ai/DeepSeek-V3", 1.25, 1.25), (5, "mistralai/Mixtral-8x7B-Instruct-v0.1", 0.6, 0.6),
    (6, "deepseek-chat", 0.27, 1.1), (6, "deepseek-reasoner", 0.55, 2.19),
    (7, "grok-4", 3, 15), (7, "grok-3", 3, 15), (7, "grok-3-mini", 0.3, 0.5), (7, "grok-code-fast-1", 0.2, 1.5),
    (7, "grok-4-fast-reasoning", 0.2, 0.5), (7, "grok-2-vision-1212", 2, 10),
]
ENDPOINTS = ["/v1/chat/completions", "/v1/messages", "/v1beta/models:generateContent", "/v1/chat/completions",
             "/openai/v1/chat/completions", "/v1/chat/completions", "/chat/completions", "/v1/chat/completions"]
ROWS = 100_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    ap.add_argument("--end", default="2026-10-31")         # the query benchmark's "now"
    ap.add_argument("--days", type=int, default=30)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    end = int(dt.datetime.fromisoformat(a.end).replace(tzinfo=dt.timezone.utc).timestamp() * 1_000_000)
    span = a.days * 86_400_000_000
    # Times: uniform days, a daily cycle (more traffic 13:00-21:00 UTC), sorted.
    day = rng.integers(0, a.days, a.count)
    hour = np.clip(rng.normal(17, 4.5, a.count), 0, 23.999)
    ts = np.sort(end - span + day * 86_400_000_000 + (hour * 3_600_000_000).astype(np.int64))
    # Skewed model traffic (Zipf-like over a shuffled order), users Zipf-like too, 12% without one.
    w = 1.0 / np.arange(1, len(MODELS) + 1) ** 1.1
    w = w[rng.permutation(len(MODELS))]
    model = rng.choice(len(MODELS), a.count, p=w / w.sum())
    users = np.array(["usr_%08x" % u for u in rng.integers(0, 2**32, 5_000, dtype=np.uint64)])
    uw = 1.0 / np.arange(1, 5_001) ** 0.8
    user = rng.choice(5_000, a.count, p=uw / uw.sum())
    no_user = rng.random(a.count) < 0.12
    prov = np.array([m[0] for m in MODELS])[model]
    price_in = np.array([m[2] for m in MODELS])[model]
    price_out = np.array([m[3] for m in MODELS])[model]
    inp = rng.lognormal(6.5, 1.3, a.count).astype(np.int64) + 1
    out = rng.lognormal(5.0, 1.1, a.count).astype(np.int64)
    cost = np.round((inp * price_in + out * price_out) / 1e6, 9)
    status = np.where(rng.random(a.count) < 0.03, rng.choice([400, 429, 500, 503], a.count), 200)
    latency = rng.lognormal(6.6, 0.7, a.count)
    stream = rng.random(a.count) < 0.4
    key_hashes = ["%016x" % k for k in rng.integers(0, 2**64, 40, dtype=np.uint64)]
    with open(a.out, "wb") as f:
        for lo in range(0, a.count, ROWS):
            hi = min(a.count, lo + ROWS)
            ids = rng.integers(0, 2**64, (hi - lo, 2), dtype=np.uint64)
            keys = rng.integers(0, 40, hi - lo)
            # ISO 8601 with microseconds, as the span schema's examples and pyarrow's reader (parquet_size.py) take.
            start = np.datetime_as_string(ts[lo:hi].astype("datetime64[us]"), unit="us")
            stop = np.datetime_as_string((ts[lo:hi] + (latency[lo:hi] * 1000).astype(np.int64)).astype("datetime64[us]"), unit="us")
            rows = []
            for i in range(lo, hi):
                ok = status[i] == 200
                m = MODELS[model[i]]
                k = i - lo
                rows.append(orjson.dumps({
                    "span_id": "%016x%016x" % (ids[k, 0], ids[k, 1]),
                    "user_id": None if no_user[i] else str(users[user[i]]),
                    "ts_start": start[k] + "Z", "ts_end": stop[k] + "Z",
                    "latency_ms": round(float(latency[i]), 3),
                    "provider": PROVIDERS[prov[i]], "model_requested": m[1], "model": m[1],
                    "operation": "embeddings" if m[3] == 0 else "chat", "endpoint": ENDPOINTS[prov[i]],
                    "method": "POST", "stream": bool(stream[i]), "status": int(status[i]),
                    "error_type": None if ok else ("rate_limited" if status[i] == 429 else "upstream_error"),
                    "input_tokens": int(inp[i]) if ok else None, "output_tokens": int(out[i]) if ok else None,
                    "cost_usd": float(cost[i]) if ok else None,
                    "request_bytes": int(inp[i] * 4), "response_bytes": int(out[i] * 5) if ok else 120,
                    "api_key_hash": key_hashes[keys[k]], "properties": {},
                }, option=orjson.OPT_APPEND_NEWLINE))
            f.write(b"".join(rows))
    print(f"wrote {a.count} spans to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
