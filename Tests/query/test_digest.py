"""`plumb digest`: every figure of a day's and a week's digest of the known data set checked
against `plumb query` (and DuckDB for the quantiles) over the same period; time zones move the
period; a period without traffic gives a short, correct digest; anomalies and first appearances of
models and keys on a hand-made data set agree with `plumb query`; the JSON validates against
schemas/digest.schema.json; the HTML is well-formed and self-contained; the text and Markdown
carry the same figures."""
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from conftest import NOW, PLUMB, ROOT, plumb_query

DAY = "2026-10-20"
WHERE = "ts_start >= TIMESTAMP '2026-10-20 00:00:00' AND ts_start < TIMESTAMP '2026-10-21 00:00:00'"
FAILED = "(status >= 500 OR status = 429 OR error_type IN ('upstream_timeout', 'upstream_unreachable', 'stream_reset'))"


def digest(data, *args, fmt="json", check=True):
    r = subprocess.run([PLUMB, "digest", "--data", data, "--now", NOW, "--format", fmt, *args], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def q(data, sql):
    return json.loads(plumb_query(data, sql).stdout)


def one(data, sql):
    return list(q(data, sql)[0].values())


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


@pytest.fixture(scope="module")
def day(dataset):
    data, _, _ = dataset
    return json.loads(digest(data, "--date", DAY, "--timezone", "UTC").stdout)


def test_json_validates_against_the_schema(day):
    schema = json.loads((ROOT / "schemas" / "digest.schema.json").read_text())
    jsonschema.validate(day, schema)
    assert day["period"] == {"kind": "day", "label": DAY, "first_day": DAY, "timezone": "UTC",
                             "start": "2026-10-20T00:00:00.000000Z", "end": "2026-10-21T00:00:00.000000Z"}


def test_totals_agree_with_plumb_query(dataset, day):
    data, _, _ = dataset
    spend, n, failed, inp, out, cr, cw, rs = one(data, f"""
        SELECT coalesce(sum(cost_usd), 0), count(*), count_if({FAILED}), sum(input_tokens), sum(output_tokens),
               sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens) FROM spans WHERE {WHERE}""")
    assert n > 0 and close(day["spend"]["total_usd"], spend)
    assert day["requests"]["total"] == n and day["requests"]["failed"] == failed
    assert close(day["requests"]["error_rate"], failed / n)
    assert day["tokens"] == {"input": inp, "output": out, "cache_read": cr, "cache_write": cw, "reasoning": rs}
    prev_spend, prev_n = one(data, "SELECT coalesce(sum(cost_usd), 0), count(*) FROM spans WHERE "
                                   "ts_start >= TIMESTAMP '2026-10-19 00:00:00' AND ts_start < TIMESTAMP '2026-10-20 00:00:00'")
    assert close(day["spend"]["previous_usd"], prev_spend) and day["requests"]["previous"] == prev_n
    week, = one(data, "SELECT sum(cost_usd) FROM spans WHERE ts_start >= TIMESTAMP '2026-10-13 00:00:00' "
                      "AND ts_start < TIMESTAMP '2026-10-20 00:00:00'")
    assert day["spend"]["trailing_periods"] == 7 and close(day["spend"]["trailing_average_usd"], week / 7)


@pytest.mark.parametrize("section,expr", [("by_provider", "provider"), ("by_model", "coalesce(model, model_requested, '(none)')"),
                                          ("by_user", "coalesce(user_id, '(none)')"), ("by_api_key", "coalesce(api_key_hash, '(none)')")])
def test_breakdowns_agree_with_plumb_query(dataset, day, section, expr):
    data, _, _ = dataset
    want = q(data, f"""SELECT {expr} AS label, coalesce(sum(cost_usd), 0) AS spend, count(*) AS n, coalesce(sum(input_tokens), 0) AS i,
                       coalesce(sum(output_tokens), 0) AS o FROM spans WHERE {WHERE} GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1""")
    rows = day[section]
    top = [r for r in rows if not r["others"]]
    assert len(top) == min(10, len(want))
    for r, w in zip(top, want):
        assert (r["label"], r["requests"], r["input_tokens"], r["output_tokens"]) == (w["label"], w["n"], w["i"], w["o"])
        assert close(r["spend_usd"], w["spend"])
    rest = want[10:]
    if rest:
        o = rows[-1]
        assert o["others"] and o["label"] == f"({len(rest)} others)" and o["requests"] == sum(w["n"] for w in rest)
        assert close(o["spend_usd"], sum(w["spend"] for w in rest), 1e-9)
    assert sum(r["requests"] for r in rows) == day["requests"]["total"]


def test_property_breakdowns_cover_every_key(dataset, day):
    data, _, _ = dataset
    keys = set()
    for row in q(data, f"SELECT properties FROM spans WHERE {WHERE}"):
        keys |= set(row["properties"] or {})
    assert [p["key"] for p in day["by_property"]] == sorted(keys) and keys
    for p in day["by_property"]:
        want = q(data, f"SELECT coalesce(properties['{p['key']}'], '(none)') AS v, count(*) AS n FROM spans WHERE {WHERE} "
                       "GROUP BY 1 ORDER BY sum(cost_usd) DESC, 2 DESC, 1 LIMIT 10")
        assert [(r["label"], r["requests"]) for r in p["rows"] if not r["others"]] == [(w["v"], w["n"]) for w in want]


def test_latency_agrees_with_duckdb(dataset, day):
    data, con, _ = dataset
    want = con.execute(f"""SELECT provider, count(*), median(latency_ms), quantile_cont(latency_ms, 0.95), median(ttft_ms),
                           quantile_cont(ttft_ms, 0.95) FROM spans WHERE {WHERE} GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()
    got = [(l["provider"], l["requests"], l["p50_ms"], l["p95_ms"], l["ttft_p50_ms"], l["ttft_p95_ms"]) for l in day["latency"]]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[:2] == tuple(w[:2])
        for a, b in zip(g[2:], w[2:]):
            assert (a is None and b is None) or close(a, b)


def test_unpriced_models_and_cache_savings(dataset, day):
    data, _, _ = dataset
    want = q(data, f"""SELECT provider, coalesce(model, model_requested, '(none)') AS m, count(*) AS n FROM spans
                       WHERE {WHERE} AND cost_usd IS NULL AND status < 400 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""")
    assert [(u["provider"], u["model"], u["requests"]) for u in day["unpriced_models"]] == [(w["provider"], w["m"], w["n"]) for w in want]
    pricing = json.loads((ROOT / "schemas" / "pricing.json").read_text())["providers"]
    saved = 0.0
    for r in q(data, f"""SELECT provider, coalesce(model, model_requested) AS m, sum(cache_read_tokens) AS t FROM spans
                         WHERE {WHERE} AND cache_read_tokens > 0 GROUP BY 1, 2"""):
        price = pricing.get(r["provider"], {}).get(r["m"])
        if price:
            saved += r["t"] * max(0, price["input"] - (price.get("cache_read") if price.get("cache_read") is not None else price["input"]))
    assert day["spend"]["cache_savings_usd"] > 0 and close(day["spend"]["cache_savings_usd"], saved, 1e-6)


def test_incidents_of_a_week_match_plumb_incidents(dataset):
    data, _, _ = dataset
    week = json.loads(digest(data, "--period", "week", "--date", "2026-10-15").stdout)
    assert week["period"]["first_day"] == "2026-10-12" and week["period"]["label"] == "week of 2026-10-12"
    assert week["spend"]["trailing_periods"] == 4
    n, = one(data, "SELECT count(*) FROM spans WHERE ts_start >= TIMESTAMP '2026-10-12 00:00:00' AND ts_start < TIMESTAMP '2026-10-19 00:00:00'")
    assert week["requests"]["total"] == n
    found = json.loads(subprocess.run([PLUMB, "incidents", "--data", data, "--now", "2026-10-19T00:00:00Z", "--since", "7d",
                                       "--format", "json"], capture_output=True, text=True, check=True).stdout)
    assert [(i["provider"], i["kind"], i["start"]) for i in week["incidents"]] == [(i["provider"], i["kind"], i["start"]) for i in found]


def test_incidents_of_a_busy_day_are_the_injected_ones(tmp_path):
    import sys
    windows = tmp_path / "windows.json"
    subprocess.run([sys.executable, ROOT / "tools" / "gen_spans.py", "--count", "150000", "--seed", "3", "--start", "2026-09-01",
                    "--days", "1", "--bodies", "0", "--out", tmp_path / "s.jsonl", "--incidents-out", windows], check=True, capture_output=True)
    data = tmp_path / "data"
    subprocess.run([PLUMB, "import", "--data", data, tmp_path / "s.jsonl"], check=True, capture_output=True)
    d = json.loads(digest(data, "--date", "2026-09-01").stdout)
    found = json.loads(subprocess.run([PLUMB, "incidents", "--data", data, "--now", "2026-09-02T00:00:00Z", "--since", "24h",
                                       "--format", "json"], capture_output=True, text=True, check=True).stdout)
    assert [(i["provider"], i["model"], i["kind"], i["start"], i["end"]) for i in d["incidents"]] == \
           [(i["provider"], i["model"], i["kind"], i["start"], i["end"]) for i in found]
    injected = {w["provider"] for w in json.loads(windows.read_text())}
    assert injected and injected <= {i["provider"] for i in d["incidents"]}


def test_time_zone_moves_the_day(dataset):
    data, _, _ = dataset
    d = json.loads(digest(data, "--date", DAY, "--timezone", "America/New_York").stdout)
    assert d["period"]["start"] == "2026-10-20T04:00:00.000000Z" and d["period"]["end"] == "2026-10-21T04:00:00.000000Z"
    spend, n = one(data, "SELECT coalesce(sum(cost_usd), 0), count(*) FROM spans WHERE ts_start >= TIMESTAMP '2026-10-20 04:00:00' "
                         "AND ts_start < TIMESTAMP '2026-10-21 04:00:00'")
    assert d["requests"]["total"] == n and close(d["spend"]["total_usd"], spend)


def test_empty_period_is_short_and_correct(dataset):
    data, _, _ = dataset
    d = json.loads(digest(data, "--date", "2025-06-01").stdout)
    assert d["requests"]["total"] == 0 and d["spend"]["total_usd"] == 0 and d["by_model"] == [] and d["incidents"] == []
    text = digest(data, "--date", "2025-06-01", fmt="text").stdout
    assert "No requests in this period." in text and len(text.splitlines()) < 12


def test_bad_arguments_are_clear_errors(dataset):
    data, _, _ = dataset
    assert "not a date YYYY-MM-DD" in digest(data, "--date", "2026-13-40", check=False).stderr
    assert "unknown time zone 'Mars/Olympus'" in digest(data, "--timezone", "Mars/Olympus", check=False).stderr
    r = digest(data, "--period", "month", check=False)
    assert r.returncode == 1 and "--period must be day or week" in r.stderr


class Strict(HTMLParser):
    """Checks nesting, and that nothing refers outside the document."""
    VOID = {"meta", "br", "img", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.problems, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script" or tag == "link" or tag == "img":
            self.problems.append(f"<{tag}> in an email")
        for k, v in attrs:
            if k in ("src", "href") or (v and "url(" in v) or k.startswith("on"):
                self.problems.append(f"{tag} {k}={v}")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, d):
        self.text.append(d)


def test_html_is_well_formed_and_self_contained(dataset, day):
    data, _, _ = dataset
    html = digest(data, "--date", DAY, fmt="html").stdout
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    p = Strict()
    p.feed(html)
    p.close()
    assert not p.problems and not p.stack, (p.problems, p.stack)
    text = " ".join(p.text)
    assert f"${day['spend']['total_usd']:,.2f}" in text and day["by_model"][0]["label"] in text


def test_text_and_markdown_carry_the_figures(dataset, day, tmp_path):
    data, _, _ = dataset
    out = tmp_path / "d.md"
    r = digest(data, "--date", DAY, "--out", out, fmt="markdown")
    assert r.stdout == ""
    md = out.read_text()
    text = digest(data, "--date", DAY, fmt="text").stdout
    money = f"${day['spend']['total_usd']:,.2f}"
    assert money in md and money in text
    assert "| " + day["by_provider"][0]["label"] in md and "---:|" in md
    assert "█" in text and f"{day['requests']['total']:,}" in text


def test_anomalies_and_first_appearances(tmp_path):
    """Spend far above its own trailing average (and at least $1) is an anomaly; a model or API
    key never seen before the period is listed as new (not as an anomaly); both agree with
    `plumb query` over the same spans."""
    base = {"parent_span_id": None, "session_id": None, "latency_ms": 800.0, "ttft_ms": None, "upstream_ms": 790.0,
            "provider": "openai", "model_requested": None, "operation": "chat", "endpoint": "/v1/chat/completions",
            "method": "POST", "stream": False, "status": 200, "error_type": None, "finish_reason": "stop",
            "input_tokens": 100, "output_tokens": 10, "cache_read_tokens": None, "cache_write_tokens": None,
            "reasoning_tokens": None, "request_bytes": 500, "response_bytes": 400, "properties": {}}
    lines = []

    def span(day, minute, user, cost, model="gpt-4o", key="aaaaaaaaaaaaaaaa"):
        n = len(lines)
        ts = f"2026-09-{day:02d}T10:{minute:02d}:00.000000Z"
        lines.append(json.dumps({**base, "span_id": f"{n + 1:032x}", "trace_id": f"{n + 1:032x}", "user_id": user,
                                 "ts_start": ts, "ts_end": ts, "model": model, "cost_usd": cost, "api_key_hash": key}))

    for day in range(1, 8):                              # the trailing week of 2026-09-08
        span(day, 0, "steady", 1.0); span(day, 1, "steady", 1.0)
        span(day, 2, "spiky", 1.0)
        span(day, 3, "small", 0.01)
    span(8, 0, "steady", 1.0); span(8, 1, "steady", 1.0)  # as usual
    span(8, 2, "small", 0.5)                              # 50x its average, but under $1
    for m in range(5):                                    # 10x its average, on a new model and key
        span(8, 10 + m, "spiky", 2.0, model="brand-new-1", key="bbbbbbbbbbbbbbbb")
    src = tmp_path / "s.jsonl"
    src.write_text("\n".join(lines) + "\n")
    data = tmp_path / "data"
    subprocess.run([PLUMB, "import", "--data", data, src], check=True, capture_output=True)
    d = json.loads(digest(data, "--date", "2026-09-08", "--timezone", "UTC").stdout)

    window = "ts_start >= TIMESTAMP '2026-09-01 00:00:00' AND ts_start < TIMESTAMP '2026-09-08 00:00:00'"
    spiky_before = one(data, f"SELECT sum(cost_usd) / 7 FROM spans WHERE {window} AND user_id = 'spiky'")[0]
    period = "ts_start >= TIMESTAMP '2026-09-08 00:00:00' AND ts_start < TIMESTAMP '2026-09-09 00:00:00'"
    spiky_now = one(data, f"SELECT sum(cost_usd) FROM spans WHERE {period} AND user_id = 'spiky'")[0]
    assert close(spiky_before, 1.0) and close(spiky_now, 10.0)
    assert [(a["dimension"], a["label"]) for a in d["anomalies"]] == [("user", "spiky")], d["anomalies"]
    assert close(d["anomalies"][0]["spend_usd"], spiky_now) and close(d["anomalies"][0]["trailing_average_usd"], spiky_before)

    first, n, spend = one(data, "SELECT min(ts_start), count(*), sum(cost_usd) FROM spans WHERE model = 'brand-new-1'")
    for section, label in (("new_models", "brand-new-1"), ("new_api_keys", "bbbbbbbbbbbbbbbb")):
        assert [x["label"] for x in d[section]] == [label], d[section]
        assert d[section][0]["first_seen"].startswith(first.replace(" ", "T")[:19]) and d[section][0]["requests"] == n == 5
        assert close(d[section][0]["spend_usd"], spend)

    # The day after, the same model and key are no longer new.
    later = json.loads(digest(data, "--date", "2026-09-09", "--timezone", "UTC").stdout)
    assert later["new_models"] == [] and later["new_api_keys"] == []
