"""Incident detection (`plumb incidents`) on generated traffic with known incident windows: every
window is found with its start and end within one minute bucket, nothing else is reported, and
healthy traffic yields no incident at all."""
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from conftest import PLUMB, ROOT

DAY_START = "2026-10-01"
NOW = "2026-10-02T00:00:00Z"
MINUTE = dt.timedelta(minutes=1)


def generate(tmp, name, count, seed, extra):
    src = tmp / f"{name}.jsonl"
    inc = tmp / f"{name}-incidents.json"
    subprocess.run([sys.executable, ROOT / "tools" / "gen_spans.py", "--count", str(count), "--seed", str(seed),
                    "--start", DAY_START, "--days", "1", "--out", src, "--incidents-out", inc] + extra,
                   check=True, capture_output=True)
    data = tmp / f"{name}-data"
    subprocess.run([PLUMB, "import", "--data", data, src], check=True, capture_output=True)
    return data, json.loads(inc.read_text())


def incidents(data):
    r = subprocess.run([PLUMB, "incidents", "--data", data, "--since", "24h", "--now", NOW, "--format", "json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def floor_minute(t):
    return t.replace(second=0, microsecond=0)


def merged_windows(windows):
    """The generator's windows per provider, overlapping ones merged (they are one incident)."""
    out = []
    for w in sorted(windows, key=lambda w: (w["provider"], w["start"])):
        if out and out[-1]["provider"] == w["provider"] and ts(w["start"]) <= ts(out[-1]["end"]):
            out[-1]["end"] = max(out[-1]["end"], w["end"])
        else:
            out.append(dict(w))
    return out


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incidents")
    return generate(tmp, "incidents", 250_000, 31, []), generate(tmp, "healthy", 250_000, 31, ["--no-incidents"])


FAILED = "(status >= 500 OR status = 429 OR error_type IN ('upstream_timeout', 'upstream_unreachable', 'stream_reset'))"


def query(data, sql):
    r = subprocess.run([PLUMB, "query", "--data", data, "--format", "json", sql], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def test_every_injected_window_is_found_within_a_minute(days):
    (data, windows), _ = days
    assert len(windows) >= 3
    found = [i for i in incidents(data) if i["model"] is None]
    expected = merged_windows(windows)
    for w in expected:
        # Where the failures really begin and end inside the window (a quiet provider's first
        # failure can come a while after the window opens): the detector must match those.
        edges = query(data, f"SELECT min(ts_start) AS first, max(ts_start) AS last FROM spans WHERE provider = '{w['provider']}' "
                            f"AND {FAILED} AND ts_start >= '{w['start']}' AND ts_start < '{w['end']}'")[0]
        start, end = floor_minute(ts(edges["first"])), floor_minute(ts(edges["last"])) + MINUTE
        match = [i for i in found if i["provider"] == w["provider"] and ts(i["start"]) < end and start < ts(i["end"])]
        assert len(match) == 1, f"window {w}: found {match}"
        i = match[0]
        assert abs(ts(i["start"]) - start) <= MINUTE, f"start {i['start']} vs first failure {edges['first']} ({w})"
        assert abs(ts(i["end"]) - end) <= MINUTE, f"end {i['end']} vs last failure {edges['last']} ({w})"
        assert ts(w["start"]) - MINUTE <= ts(i["start"]) and ts(i["end"]) <= ts(w["end"]) + MINUTE
        assert i["kind"] in ("outage", "errors") and i["affected"] > 0 and i["peak_error_rate"] > 0.25
        n = query(data, i["query"].replace("SELECT *", "SELECT count(*) AS n").replace(" ORDER BY ts_start", ""))[0]["n"]
        assert n == i["requests"]
    unexplained = [i for i in found if not any(
        i["provider"] == w["provider"] and ts(i["start"]) <= ts(w["end"]) + MINUTE and ts(w["start"]) - MINUTE <= ts(i["end"])
        for w in expected)]
    assert unexplained == []


def test_healthy_traffic_has_no_incidents(days):
    _, (data, windows) = days
    assert windows == []
    assert incidents(data) == []


def test_thresholds_come_from_the_config(days, tmp_path):
    (data, _), _ = days
    strict = tmp_path / "plumb.toml"
    strict.write_text("[incidents]\nerror_rate = 1.0\nmin_failures = 100000\nlatency_min_minutes = 100000\n")
    r = subprocess.run([PLUMB, "incidents", "--config", strict, "--data", data, "--since", "24h", "--now", NOW,
                        "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout) == []
    bad = tmp_path / "bad.toml"
    bad.write_text("[incidents]\nerror_rat = 0.5\n")
    r = subprocess.run([PLUMB, "incidents", "--config", bad, "--data", data], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown key incidents.error_rat" in r.stderr


def test_minute_rollups_change_no_figure(days, tmp_path):
    """`plumb import` leaves a minute rollup per live segment; judged as of a whole minute (when
    they are read) or of a time inside one (when they are not), with or without them, the
    incidents are the same to the last field."""
    (data, _), _ = days
    rollups = sorted(p.name for p in (data / "rollups").glob("*.minutes"))
    con = sqlite3.connect(f"file:{data}/catalog.sqlite?mode=ro", uri=True)
    live = sorted(h + ".minutes" for (h,) in con.execute("SELECT sha256 FROM segments WHERE state = 'live'"))
    con.close()
    assert rollups == live and rollups
    bare = tmp_path / "bare"
    shutil.copytree(data, bare, ignore=shutil.ignore_patterns("rollups"))
    for now in (NOW, "2026-10-01T18:07:30Z"):
        got, want = [subprocess.run([PLUMB, "incidents", "--data", d, "--since", "24h", "--now", now, "--format", "json"],
                                    capture_output=True, text=True, check=True).stdout for d in (data, bare)]
        assert got == want, now
        assert now != NOW or json.loads(got)
