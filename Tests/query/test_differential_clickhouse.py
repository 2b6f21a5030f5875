"""The differential suite a second time, over the fleet store: the data set exported to
ClickHouse's real engine (chdb behind its HTTP interface), every query run with
`plumb query --source clickhouse`, and the answers compared with DuckDB's by the same rules."""
import json
import math

import pytest

from conftest import plumb_query_clickhouse
from test_differential import APPROX, QUERIES, assert_same_rows, duck_rows, same


def clickhouse_rows(config, sql):
    out = json.loads(plumb_query_clickhouse(config, sql).stdout)
    return [list(r.values()) for r in out]


@pytest.mark.parametrize("sql", QUERIES, ids=[f"q{i:03d}" for i in range(len(QUERIES))])
def test_same_answer_as_duckdb_over_clickhouse(dataset, fleet, sql):
    _, con, _ = dataset
    config, _ = fleet
    assert_same_rows(clickhouse_rows(config, sql), duck_rows(con, sql), sql, who="plumb over ClickHouse")


@pytest.mark.parametrize("sql", APPROX, ids=[f"approx{i}" for i in range(len(APPROX))])
def test_approx_quantile_over_clickhouse(dataset, fleet, sql):
    _, con, _ = dataset
    config, _ = fleet
    expected, got = duck_rows(con, sql), clickhouse_rows(config, sql)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        for x, y in zip(g, e):
            if isinstance(y, (int, float)) and not isinstance(y, bool):
                assert math.isclose(x, y, rel_tol=0.03), f"plumb {x}, DuckDB {y}\n{sql}"
            else:
                assert x == y


def test_every_span_once_after_two_exports(dataset, fleet):
    data, con, _ = dataset
    config, _ = fleet
    n = con.execute("SELECT count(*), count(DISTINCT span_id) FROM spans").fetchone()
    got = clickhouse_rows(config, "SELECT count(*), count(DISTINCT span_id) FROM spans")
    assert got == [[n[0], n[1]]]


def run_both(data, config, *args):
    import subprocess
    from conftest import CH_ENV, NOW, PLUMB
    local = subprocess.run([PLUMB, *args, "--data", data, "--now", NOW], capture_output=True, text=True, timeout=300)
    fleet = subprocess.run([PLUMB, *args, "--config", config, "--source", "clickhouse", "--now", NOW],
                           capture_output=True, text=True, env=CH_ENV, timeout=300)
    assert local.returncode == 0, local.stderr
    assert fleet.returncode == 0, fleet.stderr
    return local.stdout, fleet.stdout


@pytest.mark.parametrize("board", ["overview", "incidents", "spend", "providers", "tail"])
def test_shipped_dashboards_render_the_same_from_clickhouse(dataset, fleet, board):
    data, _, _ = dataset
    config, _ = fleet
    local, over = run_both(data, config, "dash", "--once", board, "--width", "140")
    assert "over ClickHouse" not in over
    assert over == local


def test_incidents_and_digest_are_the_same_from_clickhouse(dataset, fleet):
    data, _, _ = dataset
    config, _ = fleet
    local, over = run_both(data, config, "incidents", "--since", "30d", "--format", "json")
    assert json.loads(over) == json.loads(local)
    local, over = run_both(data, config, "digest", "--date", "2026-10-29", "--format", "json")
    digest = json.loads(local)
    assert_same_figures(json.loads(over), digest)
    assert len(digest["by_provider"]) > 3, "a digest with figures in it"


def assert_same_figures(a, b, path="digest"):
    """Equal, floats to 1e-9 relative: money is summed exactly per row group locally and with
    Kahan's compensation in ClickHouse, both within 1e-9 of DuckDB's sum."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same_figures(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} items, locally {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_figures(x, y, f"{path}[{i}]")
    else:
        assert same(a, b), f"{path}: {a!r} over ClickHouse, {b!r} locally"
