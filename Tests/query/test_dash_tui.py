"""`plumb dash` driven for real under tmux: each shipped dashboard shows the frame (and so the
figures) of `--once` for a known data set; Tab, j/k and Enter drill into spans and into one
span's bodies; `/` filters every panel; `t` changes the range; `:` switches dashboards; resize
to 80x24, below it and back; q, Ctrl-C and a crash all give the terminal back; NO_COLOR and a
non-UTF-8 locale are honoured."""
import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from conftest import NOW, PLUMB, plumb_query

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from tmux_pane import Pane  # noqa: E402

WIDTH, HEIGHT = 140, 80
WINDOW = "ts_start >= TIMESTAMP '2026-10-30 00:00:00' AND ts_start <= TIMESTAMP '2026-10-31 00:00:00'"
STTY = "stty -a | tr ' ;' '\\n\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '"


def dash_command(data, *args, env=""):
    words = [str(PLUMB), "dash", "--data", str(data), "--now", NOW, "--range", "24h", *args]
    return f"{env} {' '.join(shlex.quote(w) for w in words)}; echo \"rc=$?\"; {STTY}; echo; echo DONE-\"\"MARK"


@pytest.fixture
def pane():
    p = Pane(WIDTH, HEIGHT, env={"LANG": "C.UTF-8", "TERM": "xterm-256color"})
    yield p
    p.close()


def once(data, board, width=WIDTH):
    import subprocess
    r = subprocess.run([PLUMB, "dash", "--once", "--data", data, "--now", NOW, "--range", "24h", "--width", str(width), board],
                       capture_output=True, text=True, check=True)
    return r.stdout.split("\n")


def body(pane_text):
    """The pane without its header and footer lines, trailing blank lines dropped."""
    lines = pane_text.split("\n")[1:HEIGHT - 1]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def header(t):
    return t.split("\n")[0]


def shows_rate(t, n, seconds):
    """The Requests/s stat for n spans over `seconds`, as the dashboard rounds it."""
    return f"{n / seconds:.3f}/s" in t or f"{n / seconds:.2f}/s" in t


def filter_by(pane, expression):
    pane.keys("/")
    pane.type(expression)
    pane.keys("Enter")


def scalar(data, sql):
    return list(json.loads(plumb_query(data, sql).stdout)[0].values())[0]


def start(pane, data, board="overview", *args, env=""):
    pane.run(dash_command(data, board, *args, env=env))
    return pane.wait(lambda t: " plumb " in t and "ms" in header(t) and "loading" not in t, what="the first frame",
                     settle=0.3)


def quit_and_check(pane, key="q", rc=0):
    pane.keys(key)
    t = pane.wait(lambda t: re.search(r"^DONE-MARK$", t, re.M) is not None, what="the shell after plumb dash")
    assert f"rc={rc}" in t, t
    assert_terminal_restored(t)


def assert_terminal_restored(t):
    """The line after the shell's `rc=N` lists the tty modes (echo, icanon) stty found."""
    lines = t.split("\n")
    at = [i for i, line in enumerate(lines) if re.search(r"rc=\d+", line) and "$?" not in line]
    assert at and at[-1] + 1 < len(lines), f"no rc= line on the screen:\n{t}"
    modes = lines[at[-1] + 1].split()
    assert "echo" in modes and "icanon" in modes, f"terminal left in {modes}:\n{t}"


@pytest.mark.parametrize("board", ["overview", "incidents", "spend", "providers", "tail"])
def test_each_shipped_dashboard_shows_the_once_frame(dataset, pane, board):
    data, _, _ = dataset
    t = start(pane, data, board)
    top = header(t)
    assert "last 24h" in top and "as of 2026-10-31 00:00:00" in top, top
    want = [l for l in once(data, board)[1:]]
    while want and not want[-1].strip():
        want.pop()
    assert body(t) == want
    quit_and_check(pane)


def test_overview_figures_agree_with_queries(dataset, pane):
    data, _, _ = dataset
    t = start(pane, data)
    n = scalar(data, f"SELECT count(*) FROM spans WHERE {WINDOW}")
    assert shows_rate(t, n, 86400)
    spend = scalar(data, "SELECT coalesce(sum(cost_usd), 0) FROM spans WHERE ts_start >= TIMESTAMP '2026-10-31 00:00:00'")
    assert f"${spend:,.2f}" in t
    quit_and_check(pane)


def test_drill_from_a_bar_to_its_spans_and_into_a_span(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    pane.keys(*["Tab"] * 7)                # the 8th panel in reading order: Top models by requests
    pane.keys("j", "Enter")                # its second row
    t = pane.wait_for("Spans · Top models by requests: ")
    model = re.search(r"Spans · Top models by requests: (\S+)\s+(\d+) shown", t)
    second = json.loads(plumb_query(data, f"SELECT coalesce(model, model_requested, '(none)') AS m, count(*) AS n FROM spans "
                                          f"WHERE {WINDOW} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2").stdout)[1]
    assert model and model.group(1) == second["m"] and int(model.group(2)) == second["n"], t
    newest = json.loads(plumb_query(data, f"SELECT span_id FROM spans WHERE {WINDOW} AND coalesce(model, model_requested, '(none)') "
                                          f"= '{second['m']}' ORDER BY ts_end DESC, span_id LIMIT 1").stdout)[0]["span_id"]
    pane.keys("Enter")
    t = pane.wait_for(f"Span {newest}")
    assert re.search(rf"^span_id\s+{newest}$", t, re.M), t
    assert "request body" in t and "response body" in t
    pane.keys("Escape")
    pane.wait_for("Spans · Top models by requests")
    pane.keys("Escape")
    t = pane.wait_for("Top models by requests ─")
    assert "Spans ·" not in t
    quit_and_check(pane)


def test_filter_to_one_span_and_read_its_bodies(dataset, pane):
    data, _, _ = dataset
    row = json.loads(plumb_query(data, f"SELECT span_id, response_body FROM spans WHERE {WINDOW} AND response_body IS NOT NULL "
                                       "ORDER BY ts_start DESC, span_id LIMIT 1").stdout)[0]
    start(pane, data, "tail")
    filter_by(pane, f"span_id = '{row['span_id']}'")
    t = pane.wait(lambda t: f"where span_id = '{row['span_id']}'" in header(t) and len(body(t)) <= 4, what="the filtered tail", settle=0.3)
    assert row["span_id"][:16] in t
    pane.keys("Enter")
    t = pane.wait_for(f"Span {row['span_id']}")
    first_key = next(iter(json.loads(row["response_body"])))
    pane.keys("G")                          # to the end: the response body, re-indented
    t = pane.wait(lambda t: re.search(rf'^  \s+"{re.escape(first_key)}": ', t, re.M) is not None, what="the response body")
    assert re.search(r"^  }\s*$", t, re.M), t
    quit_and_check(pane)


def test_filter_error_is_shown_and_nothing_changes(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    filter_by(pane, "provider = 'openai' AND statu = 1")
    t = pane.wait_for('unknown column "statu" at column 25; did you mean "status"?')
    pane.keys("Escape")
    t = pane.wait(lambda t: "where" not in header(t), what="no filter")
    quit_and_check(pane)


def test_filter_applies_to_every_panel(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    filter_by(pane, "provider = 'anthropic'")
    t = pane.wait(lambda t: "where provider = 'anthropic'" in header(t), what="the filter in the header", settle=0.3)
    n = scalar(data, f"SELECT count(*) FROM spans WHERE {WINDOW} AND provider = 'anthropic'")
    assert shows_rate(t, n, 86400)
    assert "gpt-" not in t and "claude" in t       # top models: only Anthropic's
    quit_and_check(pane)


def test_time_range_and_dashboard_switch(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    pane.keys("t")
    pane.wait_for("time range: 1 15m  2 1h  3 6h  4 24h  5 7d  6 30d")
    pane.keys("5")
    t = pane.wait(lambda t: "last 7d" in header(t), what="the 7d range", settle=0.3)
    n = scalar(data, "SELECT count(*) FROM spans WHERE ts_start >= TIMESTAMP '2026-10-24 00:00:00' AND ts_start <= TIMESTAMP '2026-10-31 00:00:00'")
    assert shows_rate(t, n, 604800), t
    pane.keys(":")
    pane.type("spe")
    pane.keys("Tab", "Enter")
    t = pane.wait(lambda t: "Spend · last 7d" in header(t), what="the spend dashboard", settle=0.3)
    assert "By provider" in t
    quit_and_check(pane)


def test_resize_to_80x24_below_and_back(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    pane.resize(80, 24)
    t = pane.wait(lambda t: len(t.rstrip("\n").split("\n")) <= 24 and "Requests/s" in t and " plumb " in t, what="an 80x24 frame", settle=0.3)
    assert all(len(l) <= 80 for l in t.split("\n")), t
    assert "Tab panel" in t.rstrip("\n").split("\n")[-1]
    pane.resize(60, 20)
    pane.wait_for("terminal too small (60x20): plumb dash needs at least 80x24")
    pane.resize(WIDTH, HEIGHT)
    want = [l for l in once(data, "overview")[1:] if True]
    while want and not want[-1].strip():
        want.pop()
    pane.wait(lambda t: body(t) == want, what="the full frame again")
    quit_and_check(pane)


def test_ctrl_c_restores_the_terminal(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    quit_and_check(pane, "C-c", rc=130)


def test_a_crash_restores_the_terminal(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    pid = pane.tmux("list-panes", "-t", "t", "-F", "#{pane_pid}").strip()
    import subprocess
    child = subprocess.run(["pgrep", "-P", pid, "-f", "plumb dash"], capture_output=True, text=True).stdout.split()
    assert child, "plumb dash not running"
    subprocess.run(["kill", "-SEGV", child[0]], check=True)
    t = pane.wait(lambda t: re.search(r"^DONE-MARK$", t, re.M) is not None, what="the shell after plumb dash")
    assert "rc=139" in t, t
    assert_terminal_restored(t)


def test_pause_help_and_keys(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    pane.keys("p")
    pane.wait(lambda t: "PAUSED" in header(t), what="PAUSED")
    pane.keys("?")
    t = pane.wait_for("filter every panel by a WHERE expression")
    assert "providers" in t and "q            quit" in t
    pane.keys("Escape", "p")
    pane.wait(lambda t: "PAUSED" not in header(t) and "Requests/s" in t, what="resumed")
    quit_and_check(pane)


def test_colour_and_no_color(dataset, pane):
    data, _, _ = dataset
    start(pane, data)
    coloured = pane.text(escapes=True)
    assert re.search(r"\x1b\[[0-9;]*3[0-7][;m]", coloured), "no colour on a colour terminal"
    quit_and_check(pane)
    pane.run("clear")
    start(pane, data, env="NO_COLOR=1")
    plain = pane.text(escapes=True)
    assert not re.search(r"\x1b\[[0-9;]*[34][0-7][;m]", plain), "colour despite NO_COLOR"
    assert "\x1b[" in plain          # bold and reverse still mark titles and the selection
    quit_and_check(pane)


def test_ascii_on_a_terminal_without_utf8(dataset, pane):
    data, _, _ = dataset
    start(pane, data, env="LANG=C LC_ALL=C")
    t = pane.text()
    assert "Requests over time" in t
    assert not any(ord(c) > 127 for c in t), [c for c in t if ord(c) > 127][:5]
    assert re.search(r"^[_.:\-=+*#]{20,}", t, re.M), t     # the sparkline in ASCII
    quit_and_check(pane)
