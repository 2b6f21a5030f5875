"""`plumb dash --once`: every shipped dashboard renders one frame of the known data set with the
figures `plumb query` gives for the same range; a malformed dashboard file is an error naming the
file, the line and the problem; without a terminal and without --once, a clear hint."""
import json
import re
import subprocess

import pytest

from conftest import NOW, PLUMB, plumb_query

RANGE = "24h"
WINDOW = f"ts_start >= TIMESTAMP '2026-10-30 00:00:00' AND ts_start <= TIMESTAMP '2026-10-31 00:00:00'"


def dash(data, *args, check=True):
    r = subprocess.run([PLUMB, "dash", "--once", "--data", data, "--now", NOW, "--width", "140", *args],
                       capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def scalar(data, sql):
    return list(json.loads(plumb_query(data, sql).stdout)[0].values())[0]


def panel(frame, title):
    """The lines of the panel titled `title` (its column), up to the next blank line."""
    lines = frame.splitlines()
    for i, line in enumerate(lines):
        col = line.find("─ " + title + " ")
        if col >= 0:
            end = col + len(re.match("─ " + re.escape(title) + " ─*", line[col:]).group(0))   # the panel's header rule
            out = []
            for l in lines[i + 1:]:
                if not l.strip():
                    break
                out.append(l[col:end].strip())
            return out
    raise AssertionError(f"no panel {title!r} in:\n{frame}")


@pytest.mark.parametrize("name", ["overview", "incidents", "spend", "providers", "tail"])
def test_each_shipped_dashboard_renders(dataset, name):
    data, _, _ = dataset
    frame = dash(data, name, "--range", RANGE).stdout
    assert frame.splitlines()[0].startswith(name.capitalize()) and "error:" not in frame


def test_overview_figures_match_queries(dataset):
    data, _, _ = dataset
    frame = dash(data, "overview", "--range", RANGE).stdout
    n = scalar(data, f"SELECT count(*) FROM spans WHERE {WINDOW}")
    rate = panel(frame, "Requests/s")[0]
    assert rate == f"{n / 86400:.3f}/s" or rate == f"{n / 86400:.2f}/s", (rate, n)
    p50 = scalar(data, f"SELECT median(latency_ms) FROM spans WHERE {WINDOW}")
    assert panel(frame, "p50 latency")[0] == f"{round(p50):,} ms"
    top = panel(frame, "Top models by requests")
    best = json.loads(plumb_query(data, f"SELECT coalesce(model, model_requested, '(none)') AS m, count(*) AS n FROM spans "
                                        f"WHERE {WINDOW} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").stdout)[0]
    assert top[0].startswith(best["m"]) and top[0].endswith(f"{best['n']:,}")


def test_spend_and_filter_apply_to_every_panel(dataset):
    data, _, _ = dataset
    frame = dash(data, "spend", "--range", RANGE, "--where", "provider = 'anthropic'").stdout
    total = scalar(data, f"SELECT sum(cost_usd) FROM spans WHERE {WINDOW} AND provider = 'anthropic'")
    assert panel(frame, "Spend in range")[0] == f"${total:.2f}"
    providers = [l for l in panel(frame, "By provider") if l]
    assert len(providers) == 1 and providers[0].startswith("anthropic")


def test_tail_dashboard_lists_latest_spans(dataset):
    data, _, _ = dataset
    frame = dash(data, "tail", "--range", RANGE).stdout
    latest = json.loads(plumb_query(data, f"SELECT span_id FROM spans WHERE {WINDOW} ORDER BY ts_end DESC, span_id LIMIT 1").stdout)[0]
    rows = panel(frame, "Latest spans")
    assert latest["span_id"][:20] in rows[1]          # (ids are cut to the column width)


def test_malformed_dashboard_names_file_and_line(dataset, tmp_path):
    data, _, _ = dataset
    (tmp_path / "mine.toml").write_text('title = "Mine"\n\n[[panel]]\ntitle = "x"\nvisual = "pie"\nquery = "SELECT 1"\n')
    r = dash(data, "mine", "--dashboards", str(tmp_path), check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == f"plumb: error: {tmp_path}/mine.toml:5: unknown visual 'pie' (use stat, sparkline, bars, table or incidents)"


def test_malformed_drill_names_file_and_line(dataset, tmp_path):
    data, _, _ = dataset
    (tmp_path / "mine.toml").write_text('title = "Mine"\n\n[[panel]]\ntitle = "x"\nvisual = "bars"\n'
                                        'query = "SELECT provider, count(*) FROM spans GROUP BY 1"\ndrill = "provder = $1"\n')
    r = dash(data, "mine", "--dashboards", str(tmp_path), check=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"plumb: error: {tmp_path}/mine.toml:7: drill: unknown column \"provder\""), r.stderr
    (tmp_path / "mine.toml").write_text('title = "Mine"\n[[panel]]\nvisual = "stat"\nquery = "SELECT cnt(*) FROM spans"\n')
    r = dash(data, "mine", "--dashboards", str(tmp_path), check=False)
    assert r.returncode == 1 and f"{tmp_path}/mine.toml:4: query: unknown function cnt()" in r.stderr


def test_without_a_terminal_dash_suggests_once(dataset):
    data, _, _ = dataset
    r = subprocess.run([PLUMB, "dash", "--data", data], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "use --once" in r.stderr
