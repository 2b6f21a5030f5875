"""Differential suite: every query runs in Plumb (`plumb query --format json`) and in DuckDB over
the same spans, and the answers must agree (floating point to 1e-9 relative). Queries with ORDER
BY are compared row by row (each ends in a total order); the rest as multisets."""
import datetime as dt
import decimal
import json
import math
import re

import pytest

from conftest import NOW, plumb_query

DUCK_NOW = "TIMESTAMP '" + NOW.replace("T", " ").rstrip("Z") + "'"

QUERIES = [
    # --- projection, literals, arithmetic
    "SELECT 1 + 2, 7 / 2, 7 // 2, -7 // 2, 7 % 3, -7 % 2, 2 * 3.5, 1.5 + 2, 10 - 3 * 2",
    "SELECT 'a' || 'b', NULL IS NULL, 1 = 1.0, 'abc' < 'abd', TRUE AND NULL, FALSE AND NULL, TRUE OR NULL, NOT NULL",
    "SELECT span_id, latency_ms - upstream_ms AS overhead FROM spans ORDER BY overhead DESC, span_id LIMIT 15",
    "SELECT span_id, input_tokens + output_tokens AS total, input_tokens * 2, output_tokens / 2, output_tokens // 3, output_tokens % 7 FROM spans ORDER BY span_id LIMIT 40",
    "SELECT span_id, cost_usd * 1000000 AS micro_usd FROM spans WHERE cost_usd IS NOT NULL ORDER BY micro_usd DESC, span_id LIMIT 10",
    "SELECT span_id, -latency_ms, +status, -status FROM spans ORDER BY span_id LIMIT 5",
    "SELECT span_id, ts_start, ts_end, properties FROM spans ORDER BY ts_start, span_id LIMIT 10",
    "SELECT * FROM spans ORDER BY span_id LIMIT 3",
    "SELECT * FROM spans WHERE provider = 'edge' ORDER BY span_id",
    "SELECT span_id, request_body, response_body FROM spans WHERE request_body IS NOT NULL ORDER BY span_id LIMIT 20",
    "SELECT count(*) FROM spans WHERE request_body LIKE '%model%'",
    # --- WHERE: comparisons, three-valued logic, IN, BETWEEN, LIKE, IS NULL
    "SELECT count(*) FROM spans WHERE status >= 500",
    "SELECT count(*) FROM spans WHERE status <> 200",
    "SELECT count(*) FROM spans WHERE status != 200 AND error_type IS NULL",
    "SELECT count(*) FROM spans WHERE ttft_ms > 1000 OR ttft_ms IS NULL",
    "SELECT count(*) FROM spans WHERE NOT (ttft_ms > 1000)",
    "SELECT count(*) FROM spans WHERE NOT (ttft_ms > 1000) IS NULL",
    "SELECT count(*) FROM spans WHERE provider IN ('openai', 'anthropic')",
    "SELECT count(*) FROM spans WHERE provider NOT IN ('openai', 'anthropic')",
    "SELECT count(*) FROM spans WHERE model IN ('gpt-4o', NULL)",
    "SELECT count(*) FROM spans WHERE model NOT IN ('gpt-4o', NULL)",
    "SELECT count(*) FROM spans WHERE status IN (429, 500, 502, 503)",
    "SELECT count(*) FROM spans WHERE latency_ms BETWEEN 1000 AND 2000",
    "SELECT count(*) FROM spans WHERE latency_ms NOT BETWEEN 1000 AND 2000",
    "SELECT count(*) FROM spans WHERE ts_start BETWEEN '2026-10-10' AND '2026-10-12'",
    "SELECT count(*) FROM spans WHERE model LIKE 'gpt-4%'",
    "SELECT count(*) FROM spans WHERE model LIKE '%mini%'",
    "SELECT count(*) FROM spans WHERE model LIKE '%-latest'",
    "SELECT count(*) FROM spans WHERE model LIKE 'o_-mini'",
    "SELECT count(*) FROM spans WHERE model NOT LIKE 'claude%'",
    "SELECT count(*) FROM spans WHERE model ILIKE 'CLAUDE%SONNET%'",
    "SELECT count(*) FROM spans WHERE user_id = ''",
    "SELECT count(*), count(user_id), count(model), count(cost_usd), count(ttft_ms) FROM spans",
    "SELECT count(*) FROM spans WHERE cache_write_tokens IS NOT NULL AND cache_write_tokens > 0",
    "SELECT count(*) FROM spans WHERE stream AND status = 200",
    "SELECT count(*) FROM spans WHERE NOT stream",
    "SELECT count(*) FROM spans WHERE status = '200'",
    "SELECT count(*) FROM spans WHERE ts_start >= '2026-10-20 00:00:00' AND ts_start < TIMESTAMP '2026-10-21 00:00:00'",
    "SELECT count(*) FROM spans WHERE ts_start > now() - INTERVAL '1 day'",
    "SELECT count(*) FROM spans WHERE ts_start > now() - INTERVAL 7 DAYS",
    "SELECT count(*) FROM spans WHERE ts_start >= now() - INTERVAL '36 hours' AND status >= 500",
    "SELECT count(*) FROM spans WHERE 1 = 0",
    "SELECT count(*) FROM spans WHERE span_id = '00000000000000000000000000000000'",
    # --- aggregates
    "SELECT sum(cost_usd), avg(cost_usd), min(cost_usd), max(cost_usd) FROM spans",
    "SELECT sum(input_tokens), avg(input_tokens), min(input_tokens), max(input_tokens) FROM spans",
    "SELECT min(model), max(model), min(ts_start), max(ts_end), min(stream), max(stream) FROM spans",
    "SELECT count(DISTINCT model), count(DISTINCT user_id), count(DISTINCT provider), count(DISTINCT properties['team']) FROM spans",
    "SELECT count_if(status >= 500), count_if(stream), count_if(ttft_ms > 500) FROM spans",
    "SELECT median(latency_ms), median(ttft_ms), median(input_tokens), median(ts_start) FROM spans",
    "SELECT quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95), quantile_cont(latency_ms, 0.99), quantile_cont(latency_ms, 0.0), quantile_cont(latency_ms, 1.0) FROM spans",
    "SELECT quantile_disc(latency_ms, 0.4), quantile_disc(output_tokens, 0.9), quantile_disc(status, 0.15) FROM spans",
    "SELECT sum(cost_usd), count(*), median(latency_ms), min(model) FROM spans WHERE 1 = 0",
    "SELECT provider, count(*) FROM spans WHERE 1 = 0 GROUP BY provider",
    "SELECT sum(DISTINCT status), avg(DISTINCT status), count(DISTINCT status) FROM spans",
    "SELECT sum(stream), avg(latency_ms) FILTER_ALIAS FROM spans".replace(" FILTER_ALIAS", " AS avg_latency"),
    # --- GROUP BY: names, positions, expressions, aliases, ALL, HAVING
    "SELECT model, sum(cost_usd) AS spend, count(*) AS requests FROM spans GROUP BY model ORDER BY spend DESC NULLS LAST, model",
    "SELECT provider, model, count(*) FROM spans GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    "SELECT provider, count(*) AS n FROM spans GROUP BY ALL ORDER BY n DESC, provider",
    "SELECT date_trunc('hour', ts_start) AS hour, provider, count_if(status >= 500) * 1.0 / count(*) AS error_rate FROM spans WHERE ts_start >= now() - INTERVAL '24 hours' GROUP BY hour, provider ORDER BY hour, provider",
    "SELECT provider, model, quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.95) AS p95, quantile_cont(latency_ms, 0.99) AS p99 FROM spans WHERE ts_start >= now() - INTERVAL '7 days' GROUP BY provider, model ORDER BY provider, model",
    "SELECT user_id, sum(cost_usd) AS spend FROM spans WHERE ts_start >= now() - INTERVAL '7 days' GROUP BY user_id ORDER BY spend DESC NULLS LAST, user_id LIMIT 20",
    "SELECT date_trunc('day', ts_start) AS day, properties['team'] AS team, sum(cost_usd) FROM spans GROUP BY day, team ORDER BY day, team NULLS FIRST",
    "SELECT time_bucket(INTERVAL '5 minutes', ts_start) AS bucket, count(*), count_if(status >= 500), quantile_cont(ttft_ms, 0.95) FROM spans WHERE provider = 'openai' AND ts_start BETWEEN '2026-10-03 00:00' AND '2026-10-03 06:00' GROUP BY bucket ORDER BY bucket",
    "SELECT provider, model, count(*) FROM spans WHERE status >= 500 AND latency_ms > 10000 GROUP BY provider, model ORDER BY 3 DESC, 1, 2",
    "SELECT model, count(*) AS n FROM spans GROUP BY model HAVING count(*) > 500 ORDER BY n DESC, model",
    "SELECT model, avg(latency_ms) AS a FROM spans GROUP BY model HAVING avg(latency_ms) > 5000 AND count(*) >= 1 ORDER BY a DESC, model",
    "SELECT status, count(*) FROM spans GROUP BY status HAVING count(*) = 1 ORDER BY status",
    "SELECT error_type, count(*) FROM spans GROUP BY error_type ORDER BY error_type NULLS FIRST",
    "SELECT error_type, count(*) FROM spans GROUP BY error_type ORDER BY error_type DESC",
    "SELECT error_type, count(*) FROM spans GROUP BY error_type ORDER BY error_type DESC NULLS FIRST",
    "SELECT finish_reason, stream, count(*) FROM spans GROUP BY finish_reason, stream ORDER BY 1 NULLS FIRST, 2",
    "SELECT operation, endpoint, method, count(*) FROM spans GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3",
    "SELECT api_key_hash, count(*), sum(cost_usd) FROM spans GROUP BY api_key_hash ORDER BY 2 DESC, 1 NULLS FIRST LIMIT 10",
    "SELECT properties['team'] AS team, properties['env'] AS env, count(*) FROM spans GROUP BY team, env ORDER BY team NULLS LAST, env NULLS LAST",
    "SELECT properties['nope'], count(*) FROM spans GROUP BY 1",
    "SELECT status // 100 AS class, count(*) FROM spans GROUP BY class ORDER BY class",
    "SELECT status / 100 AS ratio, count(*) FROM spans GROUP BY ratio ORDER BY ratio",
    "SELECT CASE WHEN status >= 500 THEN 'server' WHEN status >= 400 THEN 'client' ELSE 'ok' END AS kind, count(*) FROM spans GROUP BY kind ORDER BY kind",
    "SELECT CASE provider WHEN 'openai' THEN 1 WHEN 'anthropic' THEN 2 END AS p, count(*) FROM spans GROUP BY p ORDER BY p NULLS FIRST",
    "SELECT coalesce(model, model_requested, 'unknown') AS m, count(*) FROM spans GROUP BY m ORDER BY 2 DESC, 1 LIMIT 12",
    "SELECT date_trunc('week', ts_start) AS w, count(*) FROM spans GROUP BY w ORDER BY w",
    "SELECT date_trunc('month', ts_start), date_trunc('minute', min(ts_start)), date_trunc('second', max(ts_start)) FROM spans GROUP BY 1 ORDER BY 1",
    "SELECT time_bucket(INTERVAL '1 day', ts_start) AS d, count(*) FROM spans GROUP BY d ORDER BY d",
    "SELECT time_bucket(INTERVAL '7 days', ts_start) AS d, count(*) FROM spans GROUP BY d ORDER BY d",
    "SELECT time_bucket(INTERVAL '90 minutes', ts_start) AS d, count(*) FROM spans WHERE ts_start < '2026-10-02' GROUP BY d ORDER BY d",
    "SELECT date_part('hour', ts_start) AS h, count(*) FROM spans GROUP BY h ORDER BY h",
    "SELECT date_part('dow', ts_start) AS d, date_part('isodow', ts_start) AS i, count(*) FROM spans GROUP BY 1, 2 ORDER BY 1",
    "SELECT user_id, count(*) FROM spans GROUP BY user_id HAVING count(*) = 1 ORDER BY user_id NULLS FIRST LIMIT 25",
    "SELECT session_id IS NULL AS no_session, count(*) FROM spans GROUP BY 1 ORDER BY 1",
    "SELECT model, min(latency_ms), max(latency_ms), sum(output_tokens), avg(ttft_ms), median(cost_usd) FROM spans GROUP BY model ORDER BY model NULLS FIRST",
    "SELECT provider, sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens) FROM spans GROUP BY provider ORDER BY provider",
    "SELECT provider, count(*) FILTERLESS FROM spans GROUP BY provider".replace(" FILTERLESS", ""),
    # --- ORDER BY, LIMIT, OFFSET, DISTINCT
    "SELECT span_id, latency_ms FROM spans ORDER BY latency_ms DESC, span_id LIMIT 10 OFFSET 5",
    "SELECT span_id, ttft_ms FROM spans ORDER BY ttft_ms NULLS FIRST, span_id LIMIT 10",
    "SELECT span_id, ttft_ms FROM spans ORDER BY ttft_ms DESC NULLS LAST, span_id LIMIT 10",
    "SELECT span_id, ttft_ms FROM spans ORDER BY ttft_ms, span_id DESC LIMIT 10",
    # top-k read newest (or best) row groups first and stop early: the same rows as a full sort
    "SELECT ts_end, span_id, status FROM spans WHERE status >= 500 ORDER BY ts_end DESC, span_id LIMIT 25",
    "SELECT ts_start, span_id FROM spans WHERE ts_start >= TIMESTAMP '2026-10-20 00:00:00' ORDER BY ts_start, span_id LIMIT 30",
    "SELECT span_id, input_tokens FROM spans ORDER BY input_tokens DESC, span_id LIMIT 200",
    "SELECT span_id, status FROM spans ORDER BY status, span_id DESC LIMIT 7",
    "SELECT span_id FROM spans ORDER BY span_id DESC LIMIT 5 OFFSET 39990",
    "SELECT span_id FROM spans ORDER BY span_id LIMIT 0",
    "SELECT DISTINCT provider FROM spans ORDER BY provider",
    "SELECT DISTINCT provider, operation FROM spans ORDER BY 1, 2",
    "SELECT DISTINCT status // 100 FROM spans",
    "SELECT model, user_id FROM spans WHERE provider = 'edge' ORDER BY model, user_id",
    "SELECT user_id FROM spans WHERE user_id IS NOT NULL ORDER BY user_id LIMIT 3",
    "SELECT lower(model), upper(provider), length(model), model || '/' || provider FROM spans WHERE provider = 'edge' ORDER BY 1 NULLS FIRST",
    "SELECT round(latency_ms), round(latency_ms, 1), round(cost_usd, 4), abs(-latency_ms), floor(latency_ms), ceil(latency_ms) FROM spans ORDER BY span_id LIMIT 10",
    "SELECT greatest(input_tokens, output_tokens), least(input_tokens, output_tokens), nullif(status, 200) FROM spans ORDER BY span_id LIMIT 20",
    "SELECT span_id, CAST(status AS VARCHAR), status::DOUBLE, latency_ms::BIGINT, CAST('12' AS BIGINT) FROM spans ORDER BY span_id LIMIT 5",
    "SELECT ts_start + INTERVAL '1 day', ts_start - INTERVAL '90 minutes', ts_start + INTERVAL '1 month' FROM spans ORDER BY span_id LIMIT 5",
    "SELECT contains(model, 'mini'), starts_with(model, 'gpt'), count(*) FROM spans GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST",
    "SELECT count(*) FROM spans WHERE properties['team'] = 'ünïcode' OR properties['ключ'] = 'значение'",
    "SELECT count(*) FROM spans WHERE input_tokens > 1000000000",
    "SELECT max(input_tokens) * 2, sum(input_tokens) FROM spans",
    "SELECT concat(provider, '/', model), quantile(latency_ms, 0.5), mean(latency_ms), count(*) FROM spans GROUP BY 1 ORDER BY 1 NULLS FIRST",
    "SELECT span_id, ts_end - ts_start > INTERVAL '10 seconds' AS slow, CAST('2026-10-05 12:00:00' AS TIMESTAMP) > ts_start AS early FROM spans ORDER BY span_id LIMIT 25",
    "SELECT provider, count(*) FROM spans WHERE model IS NOT NULL AND NOT (provider = 'openai' OR provider = 'anthropic') GROUP BY provider HAVING count(*) BETWEEN 10 AND 100000 ORDER BY provider",
    "SELECT user_id, max(latency_ms) AS worst FROM spans GROUP BY user_id ORDER BY worst DESC, user_id LIMIT 7",
    # --- LIKE has no escape character (as in DuckDB: '\\' is itself); timestamp medians of even counts
    r"SELECT count(*) FROM spans WHERE request_body LIKE '%\% and%'",
    r"SELECT count(*) FROM spans WHERE request_body NOT LIKE '%\_%' AND request_body IS NOT NULL",
    "SELECT provider, median(ts_start), quantile_cont(ts_end, 0.3), quantile_cont(ts_start, 0.77) FROM spans GROUP BY provider ORDER BY provider",
    "SELECT model, median(ts_end) FROM spans WHERE ts_start >= '2026-10-20' GROUP BY model ORDER BY model NULLS LAST",
    # --- IN on a nullable column; // on doubles
    "SELECT count(*) FROM spans WHERE model NOT IN ('gpt-4o', 'o3')",
    "SELECT count(*) FROM spans WHERE (model IN ('gpt-4o', 'o3')) IS NULL",
    "SELECT 7.5 // 2, -7.5 // 2, 7 // 2.0",
    "SELECT span_id, latency_ms // 7, ttft_ms // 3 FROM spans ORDER BY span_id LIMIT 20",
]

# approx_quantile: Plumb computes it exactly; DuckDB estimates with a t-digest. Close, not equal.
APPROX = [
    "SELECT approx_quantile(latency_ms, 0.5), approx_quantile(latency_ms, 0.9), approx_quantile(output_tokens, 0.5) FROM spans",
    # (groups of thousands: on a handful of values a t-digest returns one of them, not an interpolation)
    "SELECT provider, approx_quantile(latency_ms, 0.95) FROM spans WHERE provider <> 'edge' GROUP BY provider ORDER BY provider",
]


def normalize(v):
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dict):
        return {k: v[k] for k in sorted(v)}
    return v


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return a == b
    return a == b


def duck_rows(con, sql):
    duck_sql = re.sub(r"now\(\)", DUCK_NOW, sql)
    return [[normalize(v) for v in row] for row in con.execute(duck_sql).fetchall()]


def plumb_rows(data, sql):
    out = json.loads(plumb_query(data, sql).stdout)
    return [list(r.values()) for r in out]


def key(row):
    return json.dumps(row, sort_keys=True, default=str)


@pytest.mark.parametrize("sql", QUERIES, ids=[f"q{i:03d}" for i in range(len(QUERIES))])
def test_same_answer_as_duckdb(dataset, sql):
    data, con, _ = dataset
    assert_same_rows(plumb_rows(data, sql), duck_rows(con, sql), sql)


def assert_same_rows(got, expected, sql, who="plumb"):
    """Row by row when the query orders its rows, as multisets otherwise; values by `same`."""
    assert len(got) == len(expected), f"{len(got)} rows, DuckDB {len(expected)}\n{sql}"
    if "ORDER BY" not in sql:
        got, expected = sorted(got, key=key), sorted(expected, key=key)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert len(g) == len(e), f"row {i}: {len(g)} columns, DuckDB {len(e)}"
        for c, (x, y) in enumerate(zip(g, e)):
            assert same(x, y), f"row {i} column {c}: {who} {x!r}, DuckDB {y!r}\n{sql}"


def test_at_least_80_queries():
    assert len(QUERIES) >= 80


@pytest.mark.parametrize("sql", APPROX, ids=[f"approx{i}" for i in range(len(APPROX))])
def test_approx_quantile_is_close_to_duckdb(dataset, sql):
    data, con, _ = dataset
    expected, got = duck_rows(con, sql), plumb_rows(data, sql)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        for x, y in zip(g, e):
            if isinstance(y, (int, float)) and not isinstance(y, bool):
                assert math.isclose(x, y, rel_tol=0.03), f"plumb {x}, DuckDB {y}\n{sql}"
            else:
                assert x == y
