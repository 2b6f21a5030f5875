"""The differential suite a second time, over the fleet store: the data set exported to
ClickHouse's real engine (chdb behind its HTTP interface), every query run with
`plumb query --source clickhouse`, and the answers compared with DuckDB's by the same rules."""
import json
import math

import pytest

from conftest import plumb_query_clickhouse
from test_differential import APPROX, QUERIES, duck_rows, key, same


def clickhouse_rows(config, sql):
    out = json.loads(plumb_query_clickhouse(config, sql).stdout)
    return [list(r.values()) for r in out]


@pytest.mark.parametrize("sql", QUERIES, ids=[f"q{i:03d}" for i in range(len(QUERIES))])
def test_same_answer_as_duckdb_over_clickhouse(dataset, fleet, sql):
    _, con, _ = dataset
    config, _ = fleet
    expected = duck_rows(con, sql)
    got = clickhouse_rows(config, sql)
    assert len(got) == len(expected), f"{len(got)} rows, DuckDB {len(expected)}\n{sql}"
    if "ORDER BY" not in sql:
        got, expected = sorted(got, key=key), sorted(expected, key=key)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert len(g) == len(e), f"row {i}: {len(g)} columns, DuckDB {len(e)}"
        for c, (x, y) in enumerate(zip(g, e)):
            assert same(x, y), f"row {i} column {c}: plumb over ClickHouse {x!r}, DuckDB {y!r}\n{sql}"


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
