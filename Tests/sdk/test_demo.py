"""`plumb demo`: simulated providers, `plumb serve` and traffic with incidents on a throwaway
data directory; headless it records spans from every provider with the scheduled incident (which
`plumb incidents` finds) and stops its servers on SIGTERM; under tmux it opens the live
dashboard, which fills with traffic, and q stops everything and gives the terminal back."""
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import PLUMB

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from tmux_pane import Pane  # noqa: E402


def query(data, sql):
    r = subprocess.run([PLUMB, "query", "--data", data, "--format", "json", sql], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def test_headless_demo_records_traffic_and_an_incident(tmp_path):
    # The run fits in one wall-clock minute: the detector judges minutes, and an incident split
    # across two of them could leave each side under its thresholds (a failing share of 25%, and
    # more failures than the other minute's rate explains): with the split near the incident's
    # middle, about one run in 25 found nothing. In one minute, 7 of its 15 s failing 70% of
    # openai's calls is a 33% share; 80 calls a second keep chance from taking it under 25%.
    while time.time() % 60 > 38:
        time.sleep(0.5)
    root = tmp_path / "demo"
    proc = subprocess.Popen([PLUMB, "demo", "--no-dash", "--dir", root, "--rate", "80", "--incident-every", "8",
                             "--incident-length", "8"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        m = re.search(r"plumb serve on http://127\.0\.0\.1:(\d+), data in (\S+),", first)
        assert m, first + proc.stderr.read()
        port, data = int(m.group(1)), m.group(2)
        time.sleep(15)                      # the first incident (openai) runs from 8 s; the next would start at 16 s
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    rest = proc.stdout.read()
    assert proc.returncode == 0, proc.stderr.read()
    sent = re.search(r"sent ([\d,]+) requests \(([\d,]+) failed\); data kept in", rest)
    assert sent, rest
    with socket.socket() as s:               # plumb serve is gone with the demo
        assert s.connect_ex(("127.0.0.1", port)) != 0
    rows = {r["provider"]: r for r in query(data, "SELECT provider, count(*) AS n, count_if(status >= 500 OR status = 429) AS failed "
                                                  "FROM spans GROUP BY 1 ORDER BY 1")}
    assert set(rows) == {"anthropic", "gemini", "mistral", "openai"}, rows
    total = sum(r["n"] for r in rows.values())
    assert total == int(sent.group(1).replace(",", "")), (total, rest)          # every request recorded
    assert rows["openai"]["failed"] > 0.2 * rows["openai"]["n"], rows
    assert all(rows[p]["failed"] == 0 for p in ("anthropic", "gemini", "mistral")), rows
    assert query(data, "SELECT count(*) AS n FROM spans WHERE cost_usd IS NOT NULL AND status = 200")[0]["n"] > 0
    found = json.loads(subprocess.run([PLUMB, "incidents", "--data", data, "--since", "1h", "--format", "json"],
                                      capture_output=True, text=True, check=True).stdout)
    assert any(i["provider"] == "openai" and i["kind"] == "errors" for i in found), found
    # The API keys the traffic sent are not on disk.
    assert subprocess.run(["grep", "-r", "demo-key-", str(root)], capture_output=True).returncode == 1


def test_demo_opens_a_live_dashboard_and_q_stops_it(tmp_path):
    pane = Pane(120, 40, env={"LANG": "C.UTF-8", "TERM": "xterm-256color"})
    try:
        pane.run(f"{PLUMB} demo --dir {tmp_path}/demo --rate 30 --interval 0.5; echo \"rc=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e echo -e -echo | tr '\\n' ' '; echo; echo DONE-\"\"MARK")
        # Requests/s of the last hour: a number above zero once traffic has landed.
        t = pane.wait(lambda t: re.search(r"^\s*0\.0*[1-9]\d*/s|^\s*[1-9][\d.,]*/s", t, re.M) is not None and "Overview" in t,
                      timeout=30, what="traffic on the overview")
        assert "Top models by requests" in t
        pane.keys("q")
        t = pane.wait(lambda t: re.search(r"^DONE-MARK$", t, re.M) is not None, timeout=30, what="the shell")
        assert "rc=0" in t and re.search(r"plumb demo: sent [\d,]+ requests", t), t
        assert re.search(r"^echo\s*$", t, re.M), t
    finally:
        pane.close()
