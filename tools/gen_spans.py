#!/usr/bin/env python3
"""Synthetic Plumb spans (span schema v1, one JSON object a line) for imports, benchmarks and tests.

    gen_spans.py --count N --seed S --out FILE.jsonl [--start 2026-10-01] [--days 30] [--bodies F]
                 [--no-incidents] [--incidents-out FILE.json]

Everything is vectorised with numpy per chunk of CHUNK rows and serialised with orjson, so ten
million spans take a few minutes on two cores. The output depends only on the arguments: the
skeleton (times, users, sessions, models, incidents) comes from one generator seeded with --seed,
each chunk's attributes from a generator seeded with (seed, chunk number).
"""
import argparse
import datetime as dt
import json
import sys
import time

import numpy as np
import orjson

CHUNK = 200_000  # rows per numpy batch; fixed, since each chunk has its own random stream
SUB = 10_000  # rows per orjson batch
N_USERS = 5_000
N_KEYS = 50

# provider: (API family, base latency ms, 429 rate, cache reporting, chat endpoint, embeddings endpoint,
#            prefill tokens/s, SSE bytes per streamed token)
PROVIDERS = {
    "openai":    ("openai", 300, 0.010, "oai", "/v1/chat/completions", "/v1/embeddings", 7000, 120),
    "anthropic": ("anthropic", 550, 0.015, "anth", "/v1/messages", None, 6000, 110),
    "gemini":    ("gemini", 420, 0.012, "gem", None, None, 9000, 14),
    "mistral":   ("openai", 300, 0.010, None, "/v1/chat/completions", "/v1/embeddings", 6000, 115),
    "groq":      ("openai", 110, 0.030, None, "/openai/v1/chat/completions", None, 40000, 125),
    "together":  ("openai", 350, 0.008, None, "/v1/chat/completions", None, 6000, 120),
    "deepseek":  ("openai", 650, 0.008, "ds", "/chat/completions", None, 4000, 120),
    "xai":       ("openai", 480, 0.008, "xai", "/v1/chat/completions", None, 6000, 120),
}
PROV_NAMES = list(PROVIDERS)

# (provider, model, kind, traffic weight, USD per 1M tokens (in, out, cache read, cache write) or None
#  when the model "has no price", dated id the provider may answer with, P(answer is dated),
#  reasoning model, decode tokens/s, embedding dimensions)
M = [
    ("openai", "gpt-4o-mini", "chat", 20, (0.15, 0.60, 0.075, None), "gpt-4o-mini-2024-07-18", .25, 0, 85, 0),
    ("openai", "gpt-4o", "chat", 6, (2.50, 10.0, 1.25, None), "gpt-4o-2024-08-06", .25, 0, 70, 0),
    ("openai", "gpt-4.1", "chat", 4, (2.00, 8.00, 0.50, None), "gpt-4.1-2025-04-14", .25, 0, 75, 0),
    ("openai", "gpt-4.1-mini", "chat", 7, (0.40, 1.60, 0.10, None), "gpt-4.1-mini-2025-04-14", .25, 0, 90, 0),
    ("openai", "gpt-4.1-nano", "chat", 2.5, (0.10, 0.40, 0.025, None), "gpt-4.1-nano-2025-04-14", .25, 0, 140, 0),
    ("openai", "gpt-5", "chat", 3, (1.25, 10.0, 0.125, None), "gpt-5-2025-08-07", .25, 1, 60, 0),
    ("openai", "gpt-5-mini", "chat", 3.5, (0.25, 2.00, 0.025, None), "gpt-5-mini-2025-08-07", .25, 1, 80, 0),
    ("openai", "o3", "chat", 1, (2.00, 8.00, 0.50, None), "o3-2025-04-16", .25, 1, 55, 0),
    ("openai", "o4-mini", "chat", 1.8, (1.10, 4.40, 0.275, None), "o4-mini-2025-04-16", .25, 1, 90, 0),
    ("openai", "o3-mini", "chat", 0.6, (1.10, 4.40, 0.55, None), "o3-mini-2025-01-31", .25, 1, 100, 0),
    ("openai", "gpt-3.5-turbo", "chat", 0.4, (0.50, 1.50, None, None), "gpt-3.5-turbo-0125", .25, 0, 100, 0),
    ("openai", "text-embedding-3-small", "emb", 7, (0.02, 0.0, None, None), None, 0, 0, 0, 1536),
    ("openai", "text-embedding-3-large", "emb", 1.5, (0.13, 0.0, None, None), None, 0, 0, 0, 3072),
    ("anthropic", "claude-sonnet-4-5", "chat", 10, (3.0, 15.0, 0.30, 3.75), "claude-sonnet-4-5-20250929", .3, 0, 65, 0),
    ("anthropic", "claude-haiku-4-5", "chat", 4, (1.0, 5.0, 0.10, 1.25), "claude-haiku-4-5-20251001", .3, 0, 110, 0),
    ("anthropic", "claude-opus-4-1", "chat", 1, (15.0, 75.0, 1.50, 18.75), "claude-opus-4-1-20250805", .3, 0, 35, 0),
    ("anthropic", "claude-3-7-sonnet-latest", "chat", 1.2, (3.0, 15.0, 0.30, 3.75), "claude-3-7-sonnet-20250219", .3, 0, 60, 0),
    ("anthropic", "claude-3-5-haiku-latest", "chat", 1.5, (0.8, 4.0, 0.08, 1.0), "claude-3-5-haiku-20241022", .3, 0, 90, 0),
    ("gemini", "gemini-2.5-flash", "chat", 7, (0.30, 2.50, 0.03, None), None, 0, 1, 180, 0),
    ("gemini", "gemini-2.5-pro", "chat", 2, (1.25, 10.0, 0.125, None), None, 0, 1, 90, 0),
    ("gemini", "gemini-2.0-flash", "chat", 3, (0.10, 0.40, 0.025, None), "gemini-2.0-flash-001", .2, 0, 200, 0),
    ("gemini", "gemini-2.5-flash-lite", "chat", 2, (0.10, 0.40, 0.01, None), None, 0, 0, 250, 0),
    ("gemini", "gemini-embedding-001", "emb", 1, (0.15, 0.0, None, None), None, 0, 0, 0, 3072),
    ("mistral", "mistral-large-latest", "chat", 1.5, (2.0, 6.0, None, None), "mistral-large-2411", .3, 0, 45, 0),
    ("mistral", "mistral-small-latest", "chat", 2, (0.10, 0.30, None, None), "mistral-small-2503", .3, 0, 120, 0),
    ("mistral", "codestral-latest", "chat", 1.2, (0.30, 0.90, None, None), "codestral-2501", .3, 0, 150, 0),
    ("mistral", "mistral-embed", "emb", 0.6, (0.10, 0.0, None, None), None, 0, 0, 0, 1024),
    ("mistral", "open-mistral-nemo", "chat", 0.5, (0.15, 0.15, None, None), "open-mistral-nemo-2407", .3, 0, 130, 0),
    ("groq", "llama-3.3-70b-versatile", "chat", 3, (0.59, 0.79, None, None), None, 0, 0, 300, 0),
    ("groq", "llama-3.1-8b-instant", "chat", 2.5, (0.05, 0.08, None, None), None, 0, 0, 800, 0),
    ("groq", "openai/gpt-oss-120b", "chat", 1.2, (0.15, 0.60, None, None), None, 0, 1, 450, 0),
    ("groq", "qwen/qwen3-32b", "chat", 0.6, None, None, 0, 1, 400, 0),
    ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "chat", 1.5, (0.88, 0.88, None, None), None, 0, 0, 120, 0),
    ("together", "deepseek-ai/DeepSeek-V3", "chat", 0.8, (1.25, 1.25, None, None), None, 0, 0, 60, 0),
    ("together", "Qwen/Qwen2.5-72B-Instruct-Turbo", "chat", 0.6, (1.20, 1.20, None, None), None, 0, 0, 80, 0),
    ("together", "mistralai/Mixtral-8x7B-Instruct-v0.1", "chat", 0.4, None, None, 0, 0, 150, 0),
    ("deepseek", "deepseek-chat", "chat", 2.5, (0.28, 0.42, 0.028, None), None, 0, 0, 50, 0),
    ("deepseek", "deepseek-reasoner", "chat", 1, (0.28, 0.42, 0.028, None), None, 0, 1, 45, 0),
    ("xai", "grok-4", "chat", 1, (3.0, 15.0, 0.75, None), "grok-4-0709", .3, 1, 50, 0),
    ("xai", "grok-3", "chat", 0.8, (3.0, 15.0, 0.75, None), None, 0, 0, 60, 0),
    ("xai", "grok-3-mini", "chat", 1, None, None, 0, 1, 120, 0),
]
_PROV, MODELS, _KIND, _W, _PRICE, _DATED, _PDATED, _REASON, _TPS, _DIMS = zip(*M)
NM = len(M)
M_PROV = np.array([PROV_NAMES.index(p) for p in _PROV])
M_EMB = np.array(_KIND) == "emb"
M_P = np.array(_W, float) / sum(_W)
M_PRICED = np.array([p is not None for p in _PRICE])
# USD per token; cache prices fall back to the input price when a provider gives no discount
PRICE = np.array([[p[0], p[1], p[0] if p[2] is None else p[2], p[0] if p[3] is None else p[3]]
                  for p in (q or (0, 0, None, None) for q in _PRICE)]) / 1e6
M_PDATED, M_REASON, M_TPS, M_DIMS = np.array(_PDATED), np.array(_REASON, bool), np.maximum(_TPS, 1.0), np.array(_DIMS)
P_FAMILY, _PB, _P429, P_CACHE, _, _, _PF, _PS = zip(*PROVIDERS.values())
P_BASE, P_429, P_PREFILL, P_SSE = (np.array(x, float) for x in (_PB, _P429, _PF, _PS))

def _variants():
    """(operation, endpoint) per model and variant: 0 plain, 1 streaming, 2 OpenAI Responses API."""
    op = np.empty((NM, 3), object)
    ep = np.empty((NM, 3), object)
    for i, (prov, name, kind, *_rest) in enumerate(M):
        fam, _, _, _, chat_ep, emb_ep, _, _ = PROVIDERS[prov]
        for v in range(3):
            if fam == "gemini":
                verb = "embedContent" if kind == "emb" else ("streamGenerateContent" if v == 1 else "generateContent")
                op[i, v], ep[i, v] = ("embeddings" if kind == "emb" else "generate"), f"/v1beta/models/{name}:{verb}"
            elif kind == "emb":
                op[i, v], ep[i, v] = "embeddings", emb_ep
            elif fam == "anthropic":
                op[i, v], ep[i, v] = "messages", chat_ep
            elif v == 2 and prov == "openai":
                op[i, v], ep[i, v] = "responses", "/v1/responses"
            else:
                op[i, v], ep[i, v] = "chat", chat_ep
    return op, ep


OPERATION, ENDPOINT = _variants()
MODEL_OUT = np.array([[m[1], m[5] or m[1]] for m in M], object)  # [as requested, dated]
FINISH = {"openai": ("stop", "length", "tool_calls"), "anthropic": ("end_turn", "max_tokens", "tool_use"),
          "gemini": ("STOP", "MAX_TOKENS", "STOP")}
FINISH_TAB = np.array([FINISH[f] for f in P_FAMILY], object)
STATUS_CODES = np.array([429, 400, 500, 503, 502, 504, 200])
ERROR_OF = {429: "rate_limited", 400: "upstream_4xx", 500: "upstream_5xx", 503: "upstream_5xx",
            502: "upstream_unreachable", 504: "upstream_timeout"}
ERR_LUT = np.array([ERROR_OF.get(c) for c in range(600)], object)
TEAMS = ["search", "support-bot", "growth", "data-platform", "copilot", "billing-ml", "research", "internal-tools"]
ENVS = ["prod", "staging", "dev"]
FEATURES = [None, "summarize", "chat", "rag", "extract", "classify", "codegen", "agent"]
PROPS = [{}] + [dict(team=t, env=e, **({"feature": f} if f else {})) for t in TEAMS for e in ENVS for f in FEATURES]
KEYS = ("span_id trace_id parent_span_id session_id user_id ts_start ts_end latency_ms ttft_ms upstream_ms "
        "provider model_requested model operation endpoint method stream status error_type finish_reason "
        "input_tokens output_tokens cache_read_tokens cache_write_tokens reasoning_tokens cost_usd "
        "request_bytes response_bytes api_key_hash properties").split()
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8).astype(np.uint32)


def hex_str(words, dtype=">u8"):
    """Rows of unsigned words -> list of lowercase hex strings, without a Python loop per digit."""
    b = np.ascontiguousarray(words.astype(dtype)).view(np.uint8).reshape(len(words), -1)
    nib = np.empty((b.shape[0], b.shape[1] * 2), np.uint32)
    nib[:, 0::2], nib[:, 1::2] = _HEX[b >> 4], _HEX[b & 15]
    return nib.view(f"<U{nib.shape[1]}").ravel().tolist()


def iso_us(us):
    """µs since epoch -> 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; 3x faster than np.datetime_as_string."""
    days = us // 86_400_000_000
    rem = us - days * 86_400_000_000
    d = days.astype("datetime64[D]")
    mon = d.astype("datetime64[M]")
    out = np.empty((len(us), 27), np.uint32)
    for pos, val, width in ((0, mon.astype(np.int64) // 12 + 1970, 4), (5, mon.astype(np.int64) % 12 + 1, 2),
                            (8, (d - mon.astype("datetime64[D]")).astype(np.int64) + 1, 2),
                            (11, rem // 3_600_000_000, 2), (14, rem // 60_000_000 % 60, 2),
                            (17, rem // 1_000_000 % 60, 2), (20, rem % 1_000_000, 6)):
        for k in range(width - 1, -1, -1):
            out[:, pos + k] = 48 + val % 10
            val = val // 10
    for pos, ch in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (26, "Z")):
        out[:, pos] = ord(ch)
    return out.view("<U27").ravel().tolist()


def nullable(values, null_mask):
    """numpy column -> list of Python numbers with None where null_mask."""
    o = values.astype(object)
    o[null_mask] = None
    return o.tolist()


def skeleton(g, n, start_us, days, start_weekday):
    """Times in ts_start order, with user, session and model per span. Traffic follows a per-minute
    rate: mid-day UTC peak, quiet nights, weekends at ~45%, slight growth; ~70% of spans belong
    to sessions (same user, mostly one model, seconds to minutes apart)."""
    minutes = np.arange(days * 1440)
    hour = (minutes % 1440) / 60.0
    rate = 0.15 + np.exp(-0.5 * ((hour - 15.0) / 3.8) ** 2) + 0.3 * np.exp(-0.5 * ((hour - 8.5) / 2.0) ** 2)
    rate *= np.where((start_weekday + minutes // 1440) % 7 >= 5, 0.45, 1.0) * (1 + 0.004 * minutes / 1440)
    rate *= g.lognormal(0.0, 0.1, len(minutes))
    p_min = rate / rate.sum()
    end_us = start_us + days * 86_400_000_000

    def sample_times(k):
        mins = np.repeat(minutes, g.multinomial(k, p_min))
        return start_us + mins * 60_000_000 + g.integers(0, 60_000_000, k)

    user_p = 1.0 / np.arange(1, N_USERS + 1) ** 1.0  # Zipf: a few users (service accounts) send much of the traffic
    user_p /= user_p.sum()
    n_sess = int(round(n * 0.70))
    lens = 1 + g.geometric(1 / 6.0, size=n_sess // 7 * 2 + 10)  # mean 7 spans a session
    cs = np.cumsum(lens)
    s_count = int(np.searchsorted(cs, n_sess)) + 1 if n_sess else 0
    lens = lens[:s_count]
    if s_count:
        lens[-1] -= cs[s_count - 1] - n_sess
    sess = np.repeat(np.arange(s_count), lens)
    gaps = g.exponential(40e6, n_sess).astype(np.int64) + 2_000_000
    first = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
    csum = np.cumsum(gaps)
    offs = csum - csum[first][sess] if n_sess else csum
    s_dur = offs[first + lens - 1] if n_sess else np.zeros(0, np.int64)
    latest = end_us - s_dur - g.integers(1, 300_000_000, s_count)  # sessions end inside the window
    s_start = np.maximum(np.minimum(sample_times(s_count), latest), start_us)
    s_ts = np.minimum(s_start[sess] + offs, end_us - 1)
    s_user = np.where(g.random(s_count) < 0.05, -1, g.choice(N_USERS, s_count, p=user_p))[sess]
    s_model = g.choice(NM, s_count, p=M_P)[sess]
    s_model = np.where(g.random(n_sess) < 0.85, s_model, g.choice(NM, n_sess, p=M_P))
    k = n - n_sess
    ts = np.concatenate((s_ts, sample_times(k)))
    user = np.concatenate((s_user, np.where(g.random(k) < 0.05, -1, g.choice(N_USERS, k, p=user_p))))
    session = np.concatenate((sess, np.full(k, -1)))
    model = np.concatenate((s_model, g.choice(NM, k, p=M_P)))
    order = np.argsort(ts, kind="stable")
    return ts[order], user[order], session[order], model[order]


def incidents(g, start_us, days):
    """3-5 windows of 10-60 minutes in which one provider fails (outage, errors or timeouts)."""
    prov_share = np.bincount(M_PROV, weights=M_P, minlength=len(PROV_NAMES)) ** 0.5
    out = []
    for _ in range(int(g.integers(3, 6))):
        dur = int(g.integers(10, 61)) * 60_000_000
        s = start_us + int(g.integers(0, max(1, days * 86_400_000_000 - dur)))
        kind = ["outage", "errors", "timeouts"][int(g.integers(0, 3))]
        p = int(g.choice(len(PROV_NAMES), p=prov_share / prov_share.sum()))
        p_fail = {"outage": g.uniform(0.85, 0.98), "errors": g.uniform(0.35, 0.7), "timeouts": g.uniform(0.3, 0.6)}[kind]
        out.append((p, s, s + dur, kind, p_fail))
    return out


def lognorm(rng, median, sigma, n):
    return median * rng.lognormal(0.0, sigma, n)


def build_chunk(f, rng, ts, user, session, model, ctx):
    n = len(ts)
    prov = M_PROV[model]
    emb = M_EMB[model]
    stream = ~emb & (rng.random(n) < 0.46)
    variant = np.where(stream, 1, np.where((prov == 0) & ~emb & (rng.random(n) < 0.2), 2, 0))

    # status: per-provider 429s, low rates of 400/5xx, then the incident windows on top
    rates = np.stack([P_429[prov], np.full(n, .004), np.full(n, .0025),
                      np.where(prov == 1, .006, .0025), np.full(n, .0005), np.full(n, .001)], 1)
    status = STATUS_CODES[(rng.random(n)[:, None] >= np.cumsum(rates, 1)).sum(1)]
    slow = np.ones(n)
    for p, s, e, kind, p_fail in ctx["incidents"]:
        hit = (prov == p) & (ts >= s) & (ts < e)
        if not hit.any():
            continue
        codes, probs = {"outage": ([502, 503, 500], [.5, .35, .15]), "errors": ([500, 503, 502], [.5, .4, .1]),
                        "timeouts": ([504, 503], [.85, .15])}[kind]
        fail = hit & (rng.random(n) < p_fail)
        status[fail] = rng.choice(codes, fail.sum(), p=probs)
        slow[hit] = rng.uniform(2.5, 8.0) if kind == "timeouts" else rng.uniform(1.2, 2.0)
    err = ERR_LUT[status]
    r2 = rng.random(n)  # mid-stream endings: the client went away, or the upstream reset
    cut = stream & (status == 200) & (r2 < 0.0055)
    err[cut] = np.where(r2[cut] < 0.004, "client_cancelled", "stream_reset")
    ok = (status == 200) & ~cut

    # usage: lognormal sizes; finish reason shapes output; reasoning and cache by model/provider
    fin = rng.choice(3, n, p=[0.87, 0.03, 0.10])
    inp = np.where(emb, lognorm(rng, 250, 1.0, n).clip(1, 8191), lognorm(rng, 1200, 1.3, n).clip(8, 180_000)).astype(np.int64)
    vis = np.where(fin == 1, rng.choice([256, 512, 1024, 2048, 4096], n), np.where(
        fin == 2, lognorm(rng, 45, 0.6, n), lognorm(rng, 220, 1.0, n))).clip(1, 8192).astype(np.int64)
    reason = np.where(M_REASON[model] & (rng.random(n) > 0.1), lognorm(rng, 700, 1.1, n).clip(0, 30_000), 0).astype(np.int64)
    vis[emb], reason[emb] = 0, 0
    out = vis + reason
    cr = np.zeros(n, np.int64)
    cw = np.zeros(n, np.int64)
    u = rng.random(n)
    frac = rng.uniform(0.2, 0.95, n)
    for pi, mode in enumerate(P_CACHE):
        sel = (prov == pi) & ~emb
        if mode in ("oai", "gem", "ds", "xai"):
            hit = sel & (u < {"oai": .45, "gem": .2, "ds": .5, "xai": .25}[mode])
            unit = 64 if mode == "ds" else 128
            cr[hit] = (inp[hit] * frac[hit] // unit * unit).astype(np.int64)
            cr[sel & (cr < 1024) & (mode != "ds")] = 0
        elif mode == "anth":
            hit = sel & (u < 0.35)
            cr[hit] = (inp[hit] * frac[hit]).astype(np.int64)
            w = sel & (u > 0.88)
            cw[w] = (inp[w] * rng.uniform(0.1, 0.6, w.sum())).astype(np.int64)
            cr[sel & (cr < 1024)], cw[sel & (cw < 1024)] = 0, 0  # Anthropic caches >= 1024-token prefixes
    pr = PRICE[model]
    cost = np.round((inp - cr - cw) * pr[:, 0] + out * pr[:, 1] + cr * pr[:, 2] + cw * pr[:, 3], 10)

    # timing in integer µs so latency_ms == (ts_end - ts_start) / 1000 exactly
    tps = M_TPS[model]
    base = P_BASE[prov] * rng.lognormal(0, 0.35, n)
    ttft = base + inp / P_PREFILL[prov] * 1000 + reason / tps * 1000
    up = np.where(emb, base * 0.4 + inp / 100.0, (ttft + vis / tps * 1000 * rng.lognormal(0, 0.25, n)) * slow)
    ttft *= slow
    up[cut] = ttft[cut] + (up[cut] - ttft[cut]) * rng.uniform(0.05, 0.9, cut.sum())
    up = np.select([status == 429, status == 400, (status == 500) | (status == 503), status == 502, status == 504],
                   [lognorm(rng, 90, 0.5, n), lognorm(rng, 120, 0.4, n), lognorm(rng, 400, 0.8, n),
                    np.where(rng.random(n) < 0.3, 10_000.0, lognorm(rng, 30, 0.6, n)),
                    60_000 + rng.uniform(0, 5, n)], up)
    up_us = np.maximum(np.rint(up * 1000), 200).astype(np.int64)
    ttft_us = np.minimum(np.rint(ttft * 1000).astype(np.int64), up_us)
    lat_us = up_us + np.maximum(np.rint(lognorm(rng, 450, 0.6, n) + stream * 200), 40).astype(np.int64)

    req_b = (np.where(emb, inp * 4.3 + 60, inp * 4.1 * rng.uniform(0.85, 1.25, n) + 180)).astype(np.int64)
    resp_b = np.where(emb, M_DIMS[model] * 11 + 150, np.where(stream, vis * P_SSE[prov] + 600, vis * 4.2 + 420))
    resp_b = np.where(ok | cut, resp_b * np.where(cut, 0.4, 1.0), rng.integers(150, 450, n)).astype(np.int64)

    # who: key follows the user's team (5% borrow another key); env follows the key
    key = np.where((user >= 0) & (rng.random(n) < 0.95), ctx["user_key"][user], rng.integers(0, N_KEYS, n))
    team = np.where(user >= 0, ctx["user_team"][user], ctx["key_team"][key])
    feat = rng.choice(len(FEATURES), n, p=[0.55] + [0.45 / 7] * 7)
    pidx = np.where(rng.random(n) < 0.07, 0, 1 + (team * len(ENVS) + ctx["key_env"][key]) * len(FEATURES) + feat)

    ids = np.empty((n, 2), np.uint64)  # UUIDv7: 48-bit ms, version 7, 12 random bits, variant 10, 62 random
    rnd = rng.integers(0, 2**64, (n, 2), dtype=np.uint64)
    ids[:, 0] = ((ts // 1000).astype(np.uint64) << np.uint64(16)) | np.uint64(0x7000) | (rnd[:, 0] & np.uint64(0xFFF))
    ids[:, 1] = np.uint64(0x8000000000000000) | (rnd[:, 1] & np.uint64(0x3FFFFFFFFFFFFFFF))
    trace = rng.integers(1, 2**64, (n, 2), dtype=np.uint64)
    parent = hex_str(rng.integers(1, 2**64, (n, 1), dtype=np.uint64))
    no_parent = rng.random(n) >= 0.10
    sess_tok = (session.astype(np.uint64) * np.uint64(0x9E3779B1) + ctx["sess_key"]) & np.uint64(0xFFFFFFFF)
    sess_str = np.array(["sess-" + h for h in hex_str(sess_tok.reshape(-1, 1), ">u4")], object)
    sess_str[session < 0] = None
    dated = (rng.random(n) < M_PDATED[model]) & (ok | cut)  # an error names no answering model
    fin_str = FINISH_TAB[prov, fin]
    fin_str[~ok | emb] = None
    usage_null = ~ok
    priced_null = usage_null | ~M_PRICED[model]
    cache_rep = np.array([c is not None for c in P_CACHE])[prov] & ~emb

    cols = [
        hex_str(ids), hex_str(trace), np.where(no_parent, None, np.array(parent, object)).tolist(),
        sess_str.tolist(), ctx["user_str"][user].tolist(), iso_us(ts), iso_us(ts + lat_us),
        (lat_us / 1000.0).tolist(), nullable(ttft_us / 1000.0, ~stream | ~(ok | cut)), (up_us / 1000.0).tolist(),
        np.array(PROV_NAMES, object)[prov].tolist(), MODEL_OUT[model, 0].tolist(), MODEL_OUT[model, dated.astype(int)].tolist(),
        OPERATION[model, variant].tolist(), ENDPOINT[model, variant].tolist(), ["POST"] * n, stream.tolist(),
        status.tolist(), err.tolist(), fin_str.tolist(),
        nullable(inp, usage_null), nullable(out, usage_null), nullable(cr, usage_null | ~cache_rep),
        nullable(cw, usage_null | (prov != 1) | emb), nullable(reason, usage_null | ~M_REASON[model]),
        nullable(cost, priced_null), req_b.tolist(), resp_b.tolist(), ctx["key_hash"][key].tolist(),
        [PROPS[i] for i in pidx.tolist()],
    ]
    body = rng.random(n) < ctx["bodies"]
    dumps, nl, total = orjson.dumps, orjson.OPT_APPEND_NEWLINE, 0
    for lo in range(0, n, SUB):  # small batches keep the Python working set small and reused
        hi = min(lo + SUB, n)
        rows = [dict(zip(KEYS, r)) for r in zip(*(c[lo:hi] for c in cols))]
        if body[lo:hi].any():
            add_bodies(rng, rows, body[lo:hi], cut[lo:hi], ts[lo:hi])
        buf = b"".join([dumps(r, option=nl) for r in rows])
        f.write(buf)
        total += len(buf)
    return total


PROMPTS = [("Summarize this support ticket in two sentences: login fails after the 2.3 update.",
            "The customer cannot log in since updating to 2.3 and asks for a fix or a rollback."),
           ("Translate 'good morning, see you at the meeting' into French.", "Bonjour, à tout à l'heure à la réunion."),
           ("Write a SQL query that counts orders per day.",
            "SELECT date_trunc('day', created_at) AS day, count(*) FROM orders GROUP BY 1 ORDER BY 1;"),
           ("Classify the sentiment: \"the new dashboard is great\"", "positive")]
SYSTEM = "You are a helpful assistant for Acme Corp."
ANTH_ERR = {400: "invalid_request_error", 429: "rate_limit_error", 500: "api_error", 503: "overloaded_error"}
GEM_ERR = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def add_bodies(rng, rows, mask, cut, ts):
    """Small bodies in each API's real shape (not sized to the token counts): SSE text for streams,
    cut streams without their closing events, the provider's error JSON (Plumb's own for 502/504)."""
    js = lambda o: orjson.dumps(o).decode()  # noqa: E731
    for i, k in zip(np.flatnonzero(mask).tolist(), rng.integers(0, len(PROMPTS), int(mask.sum())).tolist()):
        r = rows[i]
        q, a = PROMPTS[k]
        op, m, s, st, mo, fr = (r[x] for x in ("operation", "model_requested", "stream", "status", "model", "finish_reason"))
        fam = PROVIDERS[r["provider"]][0]
        msgs = [{"role": "user", "content": q}]
        r["request_body"] = js({
            "embeddings": {"content": {"parts": [{"text": q}]}} if fam == "gemini" else {"model": m, "input": q},
            "chat": {"model": m, "messages": [{"role": "system", "content": SYSTEM}] + msgs, "stream": s,
                     **({"stream_options": {"include_usage": True}} if s else {})},
            "responses": {"model": m, "instructions": SYSTEM, "input": q, "stream": s},
            "messages": {"model": m, "max_tokens": 1024, "system": SYSTEM, "messages": msgs, "stream": s},
            "generate": {"systemInstruction": {"parts": [{"text": SYSTEM}]}, "contents": [
                {"role": "user", "parts": [{"text": q}]}], "generationConfig": {"maxOutputTokens": 1024}}}[op])
        if st != 200:
            e = r["error_type"]
            r["response_body"] = js(
                {"type": "error", "error": {"type": ANTH_ERR[st], "message": e}} if fam == "anthropic" and st in ANTH_ERR
                else {"error": {"code": st, "message": e, "status": GEM_ERR[st]}} if fam == "gemini" and st in GEM_ERR
                else {"error": {"message": f"{e} (status {st})", "type": e, "code": st}})
            continue
        it, ot, cr, cw, rs = (r[x] or 0 for x in ("input_tokens", "output_tokens", "cache_read_tokens",
                                                 "cache_write_tokens", "reasoning_tokens"))
        cid = "%012x" % int(rng.integers(0, 2**48))
        if op == "embeddings":
            vec = np.round(rng.normal(0, 0.05, 8), 6).tolist()  # truncated vector
            r["response_body"] = js({"embedding": {"values": vec}} if fam == "gemini" else {
                "object": "list", "data": [{"object": "embedding", "index": 0, "embedding": vec}], "model": mo,
                "usage": {"prompt_tokens": it, "total_tokens": it}})
            continue
        if op == "messages":
            full = {"id": "msg_" + cid, "type": "message", "role": "assistant", "model": mo, "content": [
                {"type": "text", "text": a}], "stop_reason": fr, "usage": {"input_tokens": it - cr - cw,
                "output_tokens": ot, "cache_read_input_tokens": cr, "cache_creation_input_tokens": cw}}
            events = [("message_start", {"type": "message_start", "message": {**full, "content": [], "stop_reason": None}}),
                      ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": a}}),
                      ("message_delta", {"type": "message_delta", "delta": {"stop_reason": fr},
                                         "usage": {"output_tokens": ot}}),
                      ("message_stop", {"type": "message_stop"})]
        elif op == "generate":
            full = {"candidates": [{"content": {"role": "model", "parts": [{"text": a}]}, "finishReason": fr}],
                    "usageMetadata": {"promptTokenCount": it, "candidatesTokenCount": ot - rs, "thoughtsTokenCount": rs,
                                      "cachedContentTokenCount": cr, "totalTokenCount": it + ot}, "modelVersion": mo}
            events = [(None, {"candidates": [{"content": {"role": "model", "parts": [{"text": a}]}}]}), (None, full)]
        elif op == "responses":
            full = {"id": "resp_" + cid, "object": "response", "status": "completed", "model": mo, "output": [
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": a}]}],
                "usage": {"input_tokens": it, "input_tokens_details": {"cached_tokens": cr}, "output_tokens": ot,
                          "output_tokens_details": {"reasoning_tokens": rs}, "total_tokens": it + ot}}
            events = [("response.output_text.delta", {"type": "response.output_text.delta", "delta": a}),
                      ("response.completed", {"type": "response.completed", "response": full})]
        else:
            usage = {"prompt_tokens": it, "completion_tokens": ot, "total_tokens": it + ot,
                     "prompt_tokens_details": {"cached_tokens": cr}, "completion_tokens_details": {"reasoning_tokens": rs}}
            head = {"id": "chatcmpl-" + cid, "created": int(ts[i]) // 1_000_000, "model": mo}
            full = {**head, "object": "chat.completion", "choices": [{"index": 0, "message": {
                "role": "assistant", "content": a}, "finish_reason": fr}], "usage": usage}
            ch = {**head, "object": "chat.completion.chunk"}
            events = [(None, {**ch, "choices": [{"index": 0, "delta": {"role": "assistant", "content": a}}]}),
                      (None, {**ch, "choices": [{"index": 0, "delta": {}, "finish_reason": fr}]}),
                      (None, {**ch, "choices": [], "usage": usage}), (None, "[DONE]")]
        r["response_body"] = js(full) if not s else "".join(
            (f"event: {ev}\n" if ev else "") + "data: " + (d if isinstance(d, str) else js(d)) + "\n\n"
            for ev, d in (events[:1] if cut[i] else events))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--start", default="2026-10-01", help="UTC date or ISO 8601 time of the first day")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--bodies", type=float, default=0.0, help="fraction of spans that carry request/response bodies")
    ap.add_argument("--no-incidents", action="store_true", help="healthy traffic only (no incident windows)")
    ap.add_argument("--incidents-out", help="write the incident windows as JSON (provider, start, end, kind, p_fail)")
    a = ap.parse_args(argv)
    if a.count < 0 or a.days < 1 or not 0 <= a.bodies <= 1:
        ap.error("--count >= 0, --days >= 1 and 0 <= --bodies <= 1")
    t0 = time.time()
    start = dt.datetime.fromisoformat(a.start.replace("Z", "+00:00"))
    start = start.replace(tzinfo=dt.timezone.utc) if start.tzinfo is None else start.astimezone(dt.timezone.utc)
    start_us = int(start.timestamp()) * 1_000_000 + start.microsecond
    g = np.random.default_rng(a.seed)
    ts, user, session, model = skeleton(g, a.count, start_us, a.days, start.weekday())
    incs = incidents(g, start_us, a.days)
    if a.no_incidents:
        incs = []
    if a.incidents_out:
        with open(a.incidents_out, "w") as f:
            json.dump([{"provider": PROV_NAMES[p], "start": iso_us(np.array([s]))[0], "end": iso_us(np.array([e]))[0],
                        "kind": k, "p_fail": round(float(pf), 3)} for p, s, e, k, pf in sorted(incs, key=lambda x: x[1])], f, indent=1)
    user_team = g.choice(len(TEAMS), N_USERS, p=np.array([5, 8, 3, 4, 6, 2, 3, 2]) / 33)
    key_team = np.concatenate((np.arange(40) % len(TEAMS), g.integers(0, len(TEAMS), N_KEYS - 40)))
    user_key = np.array([g.choice(np.flatnonzero(key_team == t)) for t in user_team])
    perm = g.permutation(N_USERS) + 1
    ctx = dict(incidents=incs, user_team=np.append(user_team, 0), key_team=key_team, user_key=np.append(user_key, 0),
               key_env=g.choice(3, N_KEYS, p=[0.75, 0.17, 0.08]), bodies=a.bodies,
               key_hash=np.array(hex_str(g.integers(0, 2**64, (N_KEYS, 1), dtype=np.uint64)), object),
               user_str=np.array([f"user-{p:04d}" for p in perm] + [None], object),  # index -1 -> null
               sess_key=np.uint64(int(g.integers(0, 2**32))))
    written = 0
    with open(a.out, "wb") as f:
        for ci, lo in enumerate(range(0, a.count, CHUNK)):
            sl = slice(lo, min(lo + CHUNK, a.count))
            written += build_chunk(f, np.random.default_rng([a.seed, 1, ci]), ts[sl], user[sl], session[sl], model[sl], ctx)
    el = time.time() - t0
    inc_txt = "; ".join(f"{PROV_NAMES[p]} {iso_us(np.array([s]))[0][:16]}Z +{(e - s) // 60_000_000}m {k}"
                        for p, s, e, k, _ in sorted(incs, key=lambda x: x[1]))
    print(f"gen_spans: {a.count} spans ({len(set(M_PROV.tolist()))} providers, {NM} models) from {a.start} over "
          f"{a.days}d, incidents [{inc_txt}], {written / 1e6:.1f} MB -> {a.out} in {el:.1f}s "
          f"({a.count / max(el, 1e-9):,.0f} spans/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
