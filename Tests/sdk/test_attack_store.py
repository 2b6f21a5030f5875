"""What `plumb serve` leaves on disk under attack: file modes whatever the umask, rejected calls
stored without the caller's attribution and at a bounded rate, and an installation secret that
is neither replaced silently nor written through a planted symlink. After every case the server
answers /_plumb/health, stays under RSS_BOUND_MB resident, and `plumb verify` passes."""
import json
import os
import re
import stat
import time

import pytest

from conftest import (assert_alive, attack_server, build_request, http_request, pipeline, serve_refuses,
                      start_attack, stop, stop_and_verify)

pytestmark = pytest.mark.usefixtures("attack_peak_rss")

RSS_BOUND_MB = 300
ADMIN_TOKEN, CLIENT_KEY = "t0ken", "ck-1"
REJECTED_PER_SECOND = 100       # at most about this many rejected calls a second are stored
CHAT = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello " * 50}]}).encode()


def chat(p, **headers):
    r = http_request(p, "POST", "/openai/v1/chat/completions", body=CHAT,
                     headers={"Content-Type": "application/json", "Authorization": "Bearer sk-attack", **headers})
    assert r.status == 200, r
    return r


def modes(root):
    """{relative path: (is dir, mode)} of everything under root, root included."""
    out = {".": (True, stat.S_IMODE(os.lstat(root).st_mode))}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            path = os.path.join(d, n)
            try:
                st = os.lstat(path)
            except FileNotFoundError:       # a temporary file that went while we walked
                continue
            out[os.path.relpath(path, root)] = (stat.S_ISDIR(st.st_mode), stat.S_IMODE(st.st_mode))
    return out


def wrong_modes(root):
    return {path: oct(mode) for path, (is_dir, mode) in modes(root).items()
            if mode != (0o700 if is_dir else 0o600)}


def sql(p, text, timeout=10):
    r = http_request(p, "POST", "/_plumb/query", body=json.dumps({"sql": text}), timeout=timeout,
                     headers={"Content-Type": "application/json", **p.admin_headers()})
    assert r.status == 200, r
    return r.json()


# -- 3. permissions -------------------------------------------------------------------------------

def test_fresh_data_directory_is_private_under_umask_022(tmp_path, mock):
    p = start_attack(tmp_path, mock, umask=0o022)
    try:
        for _ in range(3):
            chat(p, **{"Plumb-User-Id": "u1"})
        http_request(p, "GET", "/nosuch/x")
        deadline = time.monotonic() + 6
        # Running: wait for a published segment, its body file and rollups.
        while time.monotonic() < deadline:
            names = set(modes(p.data))
            if any(n.startswith("segments/") for n in names) and any(n.startswith("bodies/") for n in names) \
                    and any(n.startswith("rollups/") and not n.endswith("rollups") for n in names):
                break
            time.sleep(0.2)
        running = modes(p.data)
        wrong_running = wrong_modes(p.data)
        assert_alive(p, RSS_BOUND_MB)
    finally:
        rc = stop(p.proc)
    stopped = wrong_modes(p.data)
    kinds = sorted({re.sub(r"[-.]\d+|[0-9a-f]{16,}", "*", n) for n in running})
    assert not wrong_running and not stopped, \
        f"modes not 0700/0600 while running: {wrong_running}; after stop: {stopped}; files seen: {kinds}"
    assert rc == 0


def test_existing_wide_data_directory_is_warned_about(tmp_path, mock):
    data = tmp_path / "wide-data"
    data.mkdir()
    os.chmod(data, 0o755)
    p = start_attack(tmp_path, mock, data=data)
    try:
        chat(p)
        assert_alive(p, RSS_BOUND_MB)
    finally:
        stop_and_verify(p)
    time.sleep(0.1)
    lines = [l for l in p.stderr_text().splitlines() if str(data) in l and ("0755" in l or "mode" in l.lower())]
    assert len(lines) == 1, f"expected one warning naming {data} and its mode; stderr: {p.stderr_text()[-500:]!r}"


# -- 12. rejected calls: no caller attribution, bounded fields, bounded rate ---------------------

ATTRIBUTION = {"Plumb-User-Id": "attacker-user", "Plumb-Session-Id": "attacker-session",
               "Plumb-Property-Team": "attacker-team", "Helicone-User-Id": "attacker-helicone",
               "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def test_rejected_calls_are_stored_without_caller_attribution(tmp_path, mock):
    with attack_server(tmp_path, mock, f'client_keys = ["{CLIENT_KEY}"]\n', listen="0.0.0.0:0",
                       admin_token=ADMIN_TOKEN, bound_mb=RSS_BOUND_MB) as p:
        sent = {}
        cases = [({401}, "/openai/v1/chat/completions", {}),
                 ({404}, "/nosuch/" + "x" * 20_000, {"Plumb-Client-Key": CLIENT_KEY}),
                 ({400, 404}, "/openai/../" + "y" * 20_000, {"Plumb-Client-Key": CLIENT_KEY})]
        for expected, path, extra in cases:
            r = http_request(p, "POST", path, body=CHAT,
                             headers={"Content-Type": "application/json", **ATTRIBUTION, **extra})
            assert r.status in expected, f"{path[:40]} -> {r}"
            sent[r.header("plumb-span-id")] = r.status
        # A rejected call need not carry a span id header: look them up by status as well.
        want = "SELECT span_id, status, user_id, session_id, trace_id, parent_span_id, properties['team'] AS team, " \
               "properties, length(endpoint) AS endpoint_len FROM spans WHERE status IN (400, 401, 404)"
        deadline = time.monotonic() + 6
        while True:
            rows = sql(p, want)
            if len(rows) >= len(cases) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(rows) >= len(cases), f"rejected calls {sorted(sent.values())}, spans found: {rows}"
        problems = []
        for row in rows:
            bad = {k: row[k] for k in ("user_id", "session_id", "parent_span_id", "team") if row[k] is not None}
            if row["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736":
                bad["trace_id"] = row["trace_id"]
            if row["properties"] not in (None, {}, [], ""):
                bad["properties"] = row["properties"]
            if row["endpoint_len"] is not None and row["endpoint_len"] > 256:
                bad["endpoint_len"] = row["endpoint_len"]
            if bad:
                problems.append((row["status"], sorted(bad), row["endpoint_len"]))
        assert not problems, f"rejected spans kept caller-supplied or oversized fields (status, fields, endpoint length): {problems}"


def test_rejected_flood_is_recorded_at_a_bounded_rate(tmp_path, mock):
    with attack_server(tmp_path, mock, bound_mb=RSS_BOUND_MB) as p:
        host = f"127.0.0.1:{p.port}"
        reqs = [build_request("GET", f"/nosuch{i % 7}/x", host, {"Plumb-User-Id": f"flood-{i}"}) for i in range(2000)]
        t = time.monotonic()
        answered = []
        for k in range(20):                      # 20 batches of 100 spread over ~2 s
            answered += pipeline(p, reqs[k * 100:(k + 1) * 100], batch=100, timeout=20)
            time.sleep(max(0.0, t + (k + 1) * 0.1 - time.monotonic()))
        elapsed = time.monotonic() - t
        assert len(answered) == 2000 and all(r.status == 404 for r in answered)
        time.sleep(2.5)                         # published within about a second
        stored = sql(p, "SELECT count(*) AS n FROM spans WHERE status = 404")[0]["n"]
        metrics = p.metrics()
        counted = sum(float(v) for v in re.findall(r'^plumb_requests_total\{[^}]*status="404"[^}]*\} (\S+)$', metrics, re.M))
        assert counted >= 2000, f"/_plumb/metrics counts {counted:.0f} of 2,000 404s"
        bound = REJECTED_PER_SECOND * (elapsed + 2)
        assert stored <= bound, f"{stored} of 2,000 rejected calls sent in {elapsed:.1f} s were stored (bound {bound:.0f})"


# -- 16. installation.secret ------------------------------------------------------------------------

def test_secret_that_is_a_directory_stops_the_server(tmp_path, mock):
    data = tmp_path / "data"
    (data / "installation.secret").mkdir(parents=True)
    rc, err = serve_refuses(tmp_path, mock, "", data=data)
    assert rc not in (None, 0) and "installation.secret" in err, f"exit {rc}; stderr: {err[-300:]}"


def test_invalid_secret_is_not_silently_replaced(tmp_path, mock):
    data = tmp_path / "data"
    data.mkdir()
    secret = data / "installation.secret"
    secret.write_text("this is not a hex secret\n")
    os.chmod(secret, 0o600)
    rc, err = serve_refuses(tmp_path, mock, "", data=data)
    assert secret.read_text() == "this is not a hex secret\n", "the invalid secret was replaced"
    assert rc not in (None, 0) and "installation.secret" in err, f"exit {rc}; stderr: {err[-300:]}"


def test_planted_symlink_for_the_secret_is_not_followed(tmp_path, mock):
    """No secret yet and installation.secret.tmp planted as a symlink to another file: the server
    may start (making its secret without following the link) or refuse, naming the file; the
    other file must stay as it was."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(victim, data / "installation.secret.tmp")
    try:
        p = start_attack(tmp_path, mock, data=data)
    except RuntimeError as e:
        assert victim.read_text() == "precious\n", "the secret was written through the planted symlink"
        assert "installation.secret" in str(e), str(e)
        return
    try:
        chat(p, Authorization="Bearer sk-fingerprinted")
        assert_alive(p, RSS_BOUND_MB)
    finally:
        stop_and_verify(p)
    assert victim.read_text() == "precious\n", "the secret was written through the planted symlink"
    secret = data / "installation.secret"
    assert secret.exists() and not secret.is_symlink(), "installation.secret is a symlink"
