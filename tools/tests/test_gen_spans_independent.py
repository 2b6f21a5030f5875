"""tools/gen_spans_independent.py, the query benchmark's second data shape (issue 24): valid span
lines with the shape the issue describes, deterministic, importable by `plumb import`."""
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "tools" / "gen_spans_independent.py"
SCHEMA = json.loads((ROOT / "schemas" / "span.schema.json").read_text())
PLUMB = Path(os.environ.get("PLUMB_BUILD_DIR", ROOT / ".build" / "debug")) / "plumb"


def generate(path, count=20_000, seed=7):
    subprocess.run([sys.executable, str(GEN), "--count", str(count), "--seed", str(seed), "--out", str(path)],
                   check=True, capture_output=True, timeout=300)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = generate(tmp_path_factory.mktemp("ind") / "spans.jsonl")
    return path, [json.loads(line) for line in path.read_text().splitlines()]


def test_the_shape_the_issue_describes(data):
    _, rows = data
    assert len({r["model"] for r in rows}) == 41 and len({r["provider"] for r in rows}) == 8
    users = {r["user_id"] for r in rows if r["user_id"] is not None}
    assert all(re.fullmatch(r"usr_[0-9a-f]{8}", u) for u in users) and 3_000 < len(users) <= 5_000
    assert 0.10 < sum(r["user_id"] is None for r in rows) / len(rows) < 0.14
    assert max(len(repr(r["cost_usd"]).split(".")[-1]) for r in rows if r["cost_usd"]) == 9
    ids = [r["span_id"] for r in rows]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    ts = [dt.datetime.strptime(r["ts_start"], "%Y-%m-%dT%H:%M:%S.%fZ") for r in rows]
    assert ts == sorted(ts) and ids != sorted(ids), "rows in time order, ids not"
    assert max(ts) - min(ts) > dt.timedelta(days=28)


def test_lines_are_valid_span_json_and_deterministic(data, tmp_path):
    path, rows = data
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for r in rows[:2_000]:
        errors = list(validator.iter_errors(r))
        assert not errors, (r, errors[0].message)
    assert generate(tmp_path / "again.jsonl").read_bytes() == path.read_bytes()


def test_plumb_imports_every_line(data, tmp_path):
    path, rows = data
    out = subprocess.run([str(PLUMB), "import", "--data", str(tmp_path / "d"), str(path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and f"imported {len(rows):,} spans" in out.stderr + out.stdout, out.stderr
