"""`plumb query` output formats (table, csv, json, jsonl) and its errors, on the shared data set."""
import csv
import io
import json

from conftest import plumb_query

EDGE = "SELECT user_id, properties['team'] AS team, cost_usd, status, ts_start FROM spans WHERE provider = 'edge' ORDER BY span_id"


def test_json_and_jsonl_carry_types_nulls_and_microsecond_utc_timestamps(dataset):
    data, _, _ = dataset
    rows = json.loads(plumb_query(data, EDGE, "json").stdout)
    assert [r["user_id"] for r in rows] == ["", "usér-ünïcode-模型", "edge-user", "edge-user"]
    assert rows[0]["ts_start"] == "2026-10-30T12:00:00.000000Z" and rows[2]["ts_start"] == "2026-10-30T12:00:00.000001Z"
    assert rows[3]["team"] is None and rows[1]["team"] == "ünïcode"
    assert rows[1]["cost_usd"] == 0.0 and rows[2]["cost_usd"] == 1e-12 and isinstance(rows[1]["status"], int)
    lines = plumb_query(data, EDGE, "jsonl").stdout.splitlines()
    assert [json.loads(l) for l in lines] == rows
    assert json.loads(plumb_query(data, "SELECT 1 AS x FROM spans LIMIT 0", "json").stdout) == []


def test_csv_quotes_what_needs_quoting_and_leaves_null_empty(dataset):
    data, _, _ = dataset
    out = plumb_query(data, EDGE, "csv").stdout
    assert out.splitlines()[0] == "user_id,team,cost_usd,status,ts_start"
    assert '"x,y ""quoted"""' in out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[3][1] == "x,y \"quoted\"" and rows[4][1] == "" and rows[1][0] == ""


def test_table_aligns_columns_and_right_aligns_numbers(dataset):
    data, _, _ = dataset
    out = plumb_query(data, "SELECT provider, count(*) AS n, sum(cost_usd) AS spend FROM spans GROUP BY provider ORDER BY n DESC, provider", "table").stdout
    lines = out.splitlines()
    header, rule, body, footer = lines[0], lines[1], lines[2:-1], lines[-1]
    assert header.split() == ["provider", "n", "spend"] and set(rule.replace(" ", "")) == {"-"}
    assert footer == f"({len(body)} rows)"
    n_end = header.index("n") + 1          # numbers end under the right edge of their header
    assert all(line[:n_end].rstrip()[-1].isdigit() and line[n_end] == " " for line in body)
    spend_end = len(rule)
    assert all(len(line) == spend_end for line in body if not line.endswith("NULL"))
    nulls = plumb_query(data, "SELECT ttft_ms FROM spans WHERE ttft_ms IS NULL LIMIT 2", "table").stdout
    assert nulls.splitlines()[2].strip() == "NULL"


def test_explain_prints_the_plan(dataset):
    data, _, _ = dataset
    out = plumb_query(data, "EXPLAIN SELECT model, count(*) FROM spans WHERE ts_start >= now() - INTERVAL '2 days' GROUP BY 1", "table").stdout
    assert "AGGREGATE count_star() GROUP BY model" in out
    assert "zone-map predicates: ts_start >= '2026-10-29 00:00:00'" in out
    assert "segments: 1 read, 4 skipped of 5 (4 by the catalog's time ranges" in out


def test_errors_exit_1_with_position_caret_and_hint(dataset):
    data, _, _ = dataset
    r = plumb_query(data, "SELECT provider,\n       sum(cots_usd)\nFROM spans GROUP BY 1", check=False)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines() == [
        'plumb: query error: line 2:12: unknown column "cots_usd"',
        "         sum(cots_usd)",
        "             ^",
        'hint: did you mean "cost_usd"?',
    ]
    r = plumb_query(data, "SELECT 1", fmt="xml", check=False)
    assert r.returncode != 0 and "unknown format 'xml'" in r.stderr
