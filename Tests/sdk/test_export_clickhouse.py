"""ClickHouse as the fleet store, end to end: `plumb serve` exporting to ClickHouse's real engine
(chdb 26.9 behind its HTTP interface, tools/fleet/clickhouse_front.py), two proxies into one
ClickHouse, and the fleet read back with `--source clickhouse`."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import PLUMB, ROOT, plumb_health, post_json, start_plumb, stop, wait_for

sys.path.insert(0, str(ROOT / "tools" / "fleet"))
import fleet_processes  # noqa: E402

USER, PASSWORD = "plumb", "fleet-secret"
ENV = {"PLUMB_CLICKHOUSE_PASSWORD": PASSWORD}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture()
def clickhouse(tmp_path):
    proc, url = fleet_processes.start_clickhouse(tmp_path / "chdb", USER, PASSWORD)
    yield url
    fleet_processes.stop(proc)


def ch_config(url, instance, bodies=True, async_insert=False):
    return (f'[export.clickhouse]\nurl = "{url}"\ndatabase = "fleet"\nuser = "{USER}"\ninstance = "{instance}"\n'
            f'include_bodies = {"true" if bodies else "false"}\nasync_insert = {"true" if async_insert else "false"}\n')


def call(p, path="/v1/chat/completions", body=None, headers=None):
    sid, status, _ = post_json(p, path, body or CHAT, headers)
    return sid, status


health = plumb_health


def wait(what, cond, timeout=60):
    return wait_for(what, cond, timeout)


def query(args, sql):
    r = subprocess.run([PLUMB, "query", *args, "--format", "json", sql], capture_output=True, text=True,
                       env={**os.environ, **ENV}, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def traffic(p, n, seed):
    """n calls: chat, streams, Anthropic and Gemini, some failing (500, 429)."""
    ids = []
    for i in range(n):
        k = (i + seed) % 6
        if k == 0:
            ids.append(call(p, headers={"X-Mock-Fault": "500"})[0])
        elif k == 1:
            ids.append(call(p, headers={"X-Mock-Fault": "429"})[0])
        elif k == 2:
            ids.append(call(p, body={**CHAT, "stream": True}, headers={"Plumb-User-Id": f"u{i % 3}"})[0])
        elif k == 3:
            ids.append(call(p, "/anthropic/v1/messages", {"model": "claude-sonnet-4-20250514", "max_tokens": 50,
                                                          "messages": [{"role": "user", "content": "hi"}]})[0])
        elif k == 4:
            ids.append(call(p, "/gemini/v1beta/models/gemini-2.0-flash:generateContent",
                            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})[0])
        else:
            ids.append(call(p, headers={"Plumb-Property-Team": "search" if i % 2 else "ads"})[0])
    return ids


def test_two_proxies_one_clickhouse_count_every_span_once(tmp_path, mock, clickhouse):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir(); b_dir.mkdir()
    a = start_plumb(a_dir, mock, ch_config(clickhouse, "gw-a"), env=ENV)
    b = start_plumb(b_dir, mock, ch_config(clickhouse, "gw-b", async_insert=True), env=ENV)   # ClickHouse's async inserts
    try:
        ids_a, ids_b = traffic(a, 60, 0), traffic(b, 45, 3)
        for p, n in ((a, len(ids_a)), (b, len(ids_b))):
            wait("export", lambda: health(p)["exporters"]["clickhouse"]["spans_exported"] == n
                 and health(p)["exporters"]["clickhouse"]["lag_spans"] == 0)
        fleet = ["--config", a.config, "--source", "clickhouse"]
        got = query(fleet, "SELECT count(*) AS n, count(DISTINCT span_id) AS d FROM spans")
        assert got == [{"n": 105, "d": 105}]
        per = query(fleet, "SELECT status, count(*) AS n FROM spans GROUP BY status ORDER BY status")
        local = {}
        for p in (a, b):
            for r in query(["--data", p.data], "SELECT status, count(*) AS n FROM spans GROUP BY status ORDER BY status"):
                local[r["status"]] = local.get(r["status"], 0) + r["n"]
        assert {r["status"]: r["n"] for r in per} == local and local.get(500) and local.get(429)
        ids = {r["span_id"] for r in query(fleet, "SELECT span_id FROM spans")}
        assert ids == set(ids_a) | set(ids_b)
        # Bodies came along, and the fleet's span equals the local one.
        s = query(fleet, f"SELECT * FROM spans WHERE span_id = '{ids_a[2]}'")[0]
        s_local = query(["--data", a.data], f"SELECT * FROM spans WHERE span_id = '{ids_a[2]}'")[0]
        assert s == s_local
        body = query(fleet, f"SELECT request_body FROM spans WHERE span_id = '{ids_a[2]}'")[0]["request_body"]
        assert json.loads(body)["stream"] is True

        # The digest over the fleet is the two local digests added up, figure by figure.
        today = time.strftime("%Y-%m-%d", time.gmtime())
        def digest(args):
            r = subprocess.run([PLUMB, "digest", *args, "--date", today, "--format", "json"], capture_output=True,
                               text=True, env={**os.environ, **ENV}, timeout=120)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)
        f, da, db = digest(fleet), digest(["--data", a.data]), digest(["--data", b.data])
        assert f["requests"]["total"] == da["requests"]["total"] + db["requests"]["total"] == 105
        assert f["requests"]["failed"] == da["requests"]["failed"] + db["requests"]["failed"] > 0
        assert f["spend"]["total_usd"] == pytest.approx(da["spend"]["total_usd"] + db["spend"]["total_usd"], rel=1e-9)
        for k in f["tokens"]:
            assert f["tokens"][k] == da["tokens"][k] + db["tokens"][k], k
        def merged(rows_a, rows_b):
            out = {}
            for r in rows_a + rows_b:
                m = out.setdefault(r["label"], {"spend_usd": 0.0, "requests": 0, "input_tokens": 0, "output_tokens": 0})
                for k in m:
                    m[k] += r[k] or 0
            return out
        for section in ("by_provider", "by_model"):
            want = merged(da[section], db[section])
            got_rows = {r["label"]: r for r in f[section]}
            assert set(got_rows) == set(want), section
            for label, m in want.items():
                for k, v in m.items():
                    assert got_rows[label][k] == pytest.approx(v, rel=1e-9), (section, label, k)
    finally:
        stop(a.proc)
        stop(b.proc)


def test_a_changed_table_is_an_error_never_altered(tmp_path, mock, clickhouse):
    # A table someone made with another type for one column.
    for sql in ["CREATE DATABASE IF NOT EXISTS fleet",
                "CREATE TABLE fleet.spans (span_id String, ts_start DateTime64(6, 'UTC'), cost_usd Float32) "
                "ENGINE = MergeTree ORDER BY span_id"]:
        req = urllib.request.Request(clickhouse + "/", data=sql.encode(), method="POST",
                                     headers={"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD})
        urllib.request.urlopen(req, timeout=30).read()
    p = start_plumb(tmp_path, mock, ch_config(clickhouse, "gw", bodies=False), env=ENV)
    try:
        call(p)
        wait("the error", lambda: (health(p)["exporters"]["clickhouse"]["last_error"] or "").find("does not match") >= 0, timeout=30)
        err = health(p)["exporters"]["clickhouse"]["last_error"]
        assert "cost_usd is Float32, Plumb writes Nullable(Float64)" in err and "trace_id is missing" in err
        assert call(p)[1] == 200, "the proxy goes on"
    finally:
        stop(p.proc)


def test_wrong_password_is_retried_not_skipped(tmp_path, mock, clickhouse):
    p = start_plumb(tmp_path, mock, ch_config(clickhouse, "gw"), env={"PLUMB_CLICKHOUSE_PASSWORD": "wrong"})
    try:
        sid, _ = call(p)
        wait("the error", lambda: "Authentication failed" in (health(p)["exporters"]["clickhouse"]["last_error"] or ""), timeout=30)
        h = health(p)["exporters"]["clickhouse"]
        assert h["spans_exported"] == 0 and h["batches_skipped"] == 0
    finally:
        stop(p.proc)
    # With the right password the same data directory sends the span.
    p = start_plumb(tmp_path, mock, ch_config(clickhouse, "gw"), env=ENV, data=p.data)
    try:
        wait("export", lambda: health(p)["exporters"]["clickhouse"]["spans_exported"] == 1)
        got = query(["--config", p.config, "--source", "clickhouse"], "SELECT span_id FROM spans")
        assert got == [{"span_id": sid}]
    finally:
        stop(p.proc)


def test_kill_9_mid_export_then_restart_no_duplicate_visible(tmp_path, mock, clickhouse):
    import signal
    extra = ch_config(clickhouse, "gw") + "max_batch_spans = 10\n"
    p = start_plumb(tmp_path, mock, extra, env=ENV)
    sent = [call(p)[0] for _ in range(150)]
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait()
    stored = query(["--data", p.data], "SELECT count(*) AS n FROM spans")[0]["n"]
    assert stored >= 140, "spans answered before the kill are durable"
    p = start_plumb(tmp_path, mock, extra, env=ENV, data=p.data)
    try:
        assert health(p)["exporters"]["clickhouse"]["lag_spans"] > 0, "the backlog shows at once"
        wait("export", lambda: health(p)["exporters"]["clickhouse"]["lag_spans"] == 0, timeout=60)
        fleet = ["--config", p.config, "--source", "clickhouse"]
        assert query(fleet, "SELECT count(*) AS n, count(DISTINCT span_id) AS d FROM spans") == [{"n": stored, "d": stored}]
        local = {r["span_id"] for r in query(["--data", p.data], "SELECT span_id FROM spans")}
        assert {r["span_id"] for r in query(fleet, "SELECT span_id FROM spans")} == local <= set(sent)
    finally:
        stop(p.proc)


def test_tail_over_the_fleet(tmp_path, mock, clickhouse):
    p = start_plumb(tmp_path, mock, ch_config(clickhouse, "gw"), env=ENV)
    tail = subprocess.Popen([PLUMB, "tail", "--config", p.config, "--source", "clickhouse", "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV, "NO_COLOR": "1"})
    try:
        time.sleep(1)
        sent = [call(p)[0] for _ in range(5)] + [call(p, headers={"X-Mock-Fault": "500"})[0]]
        import threading
        lines = []
        threading.Thread(target=lambda: [lines.append(l) for l in tail.stdout], daemon=True).start()
        deadline = time.time() + 30
        while time.time() < deadline and len([s for s in sent if any(s in l for l in lines)]) < len(sent):
            time.sleep(0.1)
        time.sleep(1)
        seen = [s for l in lines for s in sent if s in l]
        assert sorted(seen) == sorted(sent), (seen, sent)   # each once
        assert any(" 500 " in l for l in lines if sent[-1] in l)
    finally:
        tail.kill()
        tail.wait()
        stop(p.proc)


def test_fleet_source_errors_are_one_clear_line(tmp_path):
    def run(args, env=None):
        return subprocess.run([PLUMB, "query", *args, "SELECT count(*) FROM spans"], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=60)
    r = run(["--data", tmp_path, "--source", "nope"])
    assert r.returncode != 0 and "--source must be local or clickhouse (got 'nope')" in r.stderr
    (tmp_path / "none.toml").write_text("")
    r = run(["--config", tmp_path / "none.toml", "--source", "clickhouse"])
    assert r.returncode != 0 and "needs [export.clickhouse]" in r.stderr
    (tmp_path / "down.toml").write_text('[export.clickhouse]\nurl = "http://u:secret@127.0.0.1:9"\n')
    r = run(["--config", tmp_path / "down.toml", "--source", "clickhouse"], env=ENV)
    assert r.returncode != 0 and "ClickHouse at http://127.0.0.1:9" in r.stderr, r.stderr
    assert "secret" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "pw.toml").write_text('[export.clickhouse]\nurl = "http://127.0.0.1:9"\npassword = "x"\n')
    r = run(["--config", tmp_path / "pw.toml", "--source", "clickhouse"])
    assert r.returncode != 0 and "PLUMB_CLICKHOUSE_PASSWORD" in r.stderr
