"""`plumb serve` keeps `rollups/` in step with the live segments: a minute rollup and a partial
rollup for each, written in the background within seconds of the segment, none for segments
gone. (That readers give the same answers with and without them is tested in Swift and in
Tests/query/test_incidents.py.)"""
import sqlite3
import time
from pathlib import Path

import httpx2 as httpx

from conftest import PLUMB, spawn, stop, write_config


def live_hashes(data):
    con = sqlite3.connect(f"file:{data}/catalog.sqlite?mode=ro", uri=True)
    try:
        return {h for (h,) in con.execute("SELECT sha256 FROM segments WHERE state = 'live'")}
    finally:
        con.close()


def test_serve_writes_both_rollups_of_every_live_segment(plumb):
    rollups = Path(plumb.data) / "rollups"
    for round_ in range(3):
        for k in range(15):
            r = httpx.post(f"{plumb.url}/openai/v1/chat/completions", headers={"Plumb-User-Id": f"u{k % 4}"},
                           json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"hi {round_} {k}"}]})
            assert r.status_code == 200
        deadline = time.time() + 20
        while True:
            live = live_hashes(plumb.data)
            files = {p.name for p in rollups.iterdir()} if rollups.exists() else set()
            want = {h + s for h in live for s in (".minutes", ".partials")}
            if live and files == want:
                break
            assert time.time() < deadline, f"round {round_}: rollups {sorted(files)} for live segments {sorted(live)}"
            time.sleep(0.3)
    for f in rollups.iterdir():
        head = f.read_bytes()[:12]
        assert head[:8] == (b"PLMINUTE" if f.suffix == ".minutes" else b"PLPARTIA") and head[8:12] == b"\x01\x00\x00\x00"


def test_a_malformed_dashboard_file_is_reported_and_the_shipped_ones_keep_their_rollups(mock, tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "mine.toml").write_text('title = "Mine"\n\n[[panel]]\ntitle = "x"\nvisual = "pie"\nquery = "SELECT 1"\n')
    data = tmp_path / "data"
    config = write_config(tmp_path / "plumb.toml", mock)
    proc, url = spawn([PLUMB, "serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0", "--dashboards", boards])
    try:
        r = httpx.post(f"{url}/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200, "serve still proxies"
        deadline = time.time() + 20
        while not ((data / "rollups").exists() and list((data / "rollups").glob("*.partials"))):
            assert time.time() < deadline, "no partial rollups written"
            time.sleep(0.3)
    finally:
        stop(proc)
    err = proc.stderr.read()
    assert (f"plumb serve: {boards}/mine.toml:5: unknown visual 'pie' (use stat, sparkline, bars, table or incidents); "
            "rollups are kept for the shipped dashboards only") in err, err
