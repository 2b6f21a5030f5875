"""Fixtures for the query suites: one generated data set imported into Plumb (as several
segments, so queries cross segment boundaries) and loaded into DuckDB, the oracle."""
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PLUMB_BUILD_DIR", ROOT / ".build" / "debug"))
PLUMB = Path(os.environ.get("PLUMB_BINARY", BUILD / "plumb"))
NOW = "2026-10-31T00:00:00Z"

COLUMNS = {
    "span_id": "VARCHAR", "trace_id": "VARCHAR", "parent_span_id": "VARCHAR", "session_id": "VARCHAR",
    "user_id": "VARCHAR", "ts_start": "TIMESTAMPTZ", "ts_end": "TIMESTAMPTZ", "latency_ms": "DOUBLE",
    "ttft_ms": "DOUBLE", "upstream_ms": "DOUBLE", "provider": "VARCHAR", "model_requested": "VARCHAR",
    "model": "VARCHAR", "operation": "VARCHAR", "endpoint": "VARCHAR", "method": "VARCHAR", "stream": "BOOLEAN",
    "status": "BIGINT", "error_type": "VARCHAR", "finish_reason": "VARCHAR", "input_tokens": "BIGINT",
    "output_tokens": "BIGINT", "cache_read_tokens": "BIGINT", "cache_write_tokens": "BIGINT",
    "reasoning_tokens": "BIGINT", "cost_usd": "DOUBLE", "request_bytes": "BIGINT", "response_bytes": "BIGINT",
    "api_key_hash": "VARCHAR", "properties": "MAP(VARCHAR, VARCHAR)", "request_body": "VARCHAR",
    "response_body": "VARCHAR",
}


def edge_spans(template):
    """Hand-made spans for the edge cases generated data rarely has: every nullable field null,
    empty and non-ASCII strings, empty and unusual property maps, extreme counters, ties."""
    out = []

    def span(n, ts, **changes):
        s = dict(template)
        s["span_id"] = "01" + format(n, "030x")
        s["ts_start"] = ts
        s["ts_end"] = ts
        s.pop("request_body", None)
        s.pop("response_body", None)
        s.update(changes)
        out.append(s)

    nulls = {k: None for k in ["trace_id", "parent_span_id", "session_id", "user_id", "ttft_ms", "model_requested",
                               "model", "error_type", "finish_reason", "input_tokens", "output_tokens",
                               "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "api_key_hash"]}
    span(1, "2026-10-30T23:59:59.999999Z", **nulls, properties={})
    span(2, "2026-10-30T12:00:00Z", user_id="", model="", provider="edge", properties={"team": ""})
    span(3, "2026-10-30T12:00:00Z", user_id="usér-ünïcode-模型", model="模型-é", provider="edge",
         properties={"team": "ünïcode", "ключ": "значение"}, input_tokens=9_000_000_000_000, output_tokens=0,
         cost_usd=0.0, latency_ms=0.0, status=0)
    span(4, "2026-10-30T12:00:00.000001Z", user_id="edge-user", model="edge-model", provider="edge",
         properties={"team": "x,y \"quoted\""}, cost_usd=1e-12, latency_ms=1e9, status=599, error_type="upstream_5xx")
    span(5, "2026-10-01T00:00:00Z", user_id="edge-user", model="edge-model", provider="edge", properties={"env": "dev"},
         cost_usd=123456.789, status=200, request_body="héllo\n\"body\" with % and _", response_body="")
    return out


def write_chunks(src, out_dir, parts):
    lines = Path(src).read_text().splitlines()
    edges = edge_spans(json.loads(lines[0]))
    size = (len(lines) + parts - 1) // parts
    chunks = [lines[i:i + size] for i in range(0, len(lines), size)]
    chunks[-1] = chunks[-1] + [json.dumps(e, ensure_ascii=False) for e in edges]
    paths = []
    for k, c in enumerate(chunks):
        p = out_dir / f"chunk-{k}.jsonl"
        p.write_text("\n".join(c) + "\n")
        paths.append(p)
    return paths


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """(data directory, DuckDB connection, all JSONL paths) for 40,000 spans over 30 days."""
    tmp = tmp_path_factory.mktemp("query-data")
    src = tmp / "spans.jsonl"
    subprocess.run([sys.executable, ROOT / "tools" / "gen_spans.py", "--count", "40000", "--seed", "11",
                    "--start", "2026-10-01", "--days", "30", "--bodies", "0.05", "--out", src],
                   check=True, capture_output=True)
    chunks = write_chunks(src, tmp, 5)
    data = tmp / "data"
    env = {**os.environ, "PLUMB_COMPACTION": "false"}
    for c in chunks:
        subprocess.run([PLUMB, "import", "--data", data, c], check=True, capture_output=True, env=env)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    spec = "{" + ",".join(f"{k}: '{v}'" for k, v in COLUMNS.items()) + "}"
    files = "[" + ",".join(f"'{c}'" for c in chunks) + "]"
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json({files}, format='newline_delimited', columns={spec})")
    sel = ", ".join(f"{k}::TIMESTAMP AS {k}" if v == "TIMESTAMPTZ" else k for k, v in COLUMNS.items())
    con.execute(f"CREATE TABLE spans AS SELECT {sel} FROM raw")
    return data, con, chunks


def plumb_query(data, sql, fmt="json", now=NOW, check=True):
    r = subprocess.run([PLUMB, "query", "--data", data, "--format", fmt, "--now", now, sql],
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"plumb query failed ({r.returncode}): {r.stderr}\n{sql}")
    return r


# --- the fleet store: ClickHouse's engine (chdb) behind tools/fleet/clickhouse_front.py ---------

CH_USER, CH_PASSWORD = "plumb", "fleet-secret"


def start_clickhouse(path):
    """(process, url) of a ClickHouse HTTP front over chdb, data kept in `path`."""
    sys.path.insert(0, str(ROOT / "tools" / "fleet"))
    import fleet_processes
    return fleet_processes.start_clickhouse(path, CH_USER, CH_PASSWORD)


def clickhouse_config(path, url, database="plumb", extra=""):
    path.write_text(f'[export.clickhouse]\nurl = "{url}"\ndatabase = "{database}"\nuser = "{CH_USER}"\n'
                    f'include_bodies = true\nttl = "3650d"\nbody_ttl = "3650d"\n{extra}')
    return path


CH_ENV = {**os.environ, "PLUMB_CLICKHOUSE_PASSWORD": CH_PASSWORD}


@pytest.fixture(scope="session")
def fleet(dataset, tmp_path_factory):
    """(config path, url) of a ClickHouse holding the differential data set, exported by
    `plumb export` twice (the second time adds nothing: span ids deduplicate)."""
    data, _, _ = dataset
    tmp = tmp_path_factory.mktemp("fleet")
    proc, url = start_clickhouse(tmp / "chdb")
    config = clickhouse_config(tmp / "plumb.toml", url)
    for _ in range(2):
        r = subprocess.run([PLUMB, "export", "--config", config, "--data", data, "--since", "2026-09-01", "--to", "clickhouse"],
                           capture_output=True, text=True, env=CH_ENV, timeout=600)
        assert r.returncode == 0, r.stderr
    yield config, url
    proc.terminate()
    proc.wait(30)


def plumb_query_clickhouse(config, sql, fmt="json", now=NOW):
    r = subprocess.run([PLUMB, "query", "--config", config, "--source", "clickhouse", "--format", fmt, "--now", now, sql],
                       capture_output=True, text=True, env=CH_ENV)
    if r.returncode != 0:
        raise AssertionError(f"plumb query --source clickhouse failed ({r.returncode}): {r.stderr}\n{sql}")
    return r
