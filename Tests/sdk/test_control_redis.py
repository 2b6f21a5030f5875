"""Limits and budgets shared through Redis (issue 25): two `plumb serve` processes naming the
same Redis admit a limit together, not twice, and a budget's spend is the fleet's; when Redis
goes away, `fail_open` counts calls in each process alone and `fail_closed` refuses them with
503, and both say so. Redis is Debian's redis-server, started here on a free port."""
import concurrent.futures
import re
import shutil
import socket
import subprocess
import time

import httpx2 as httpx
import pytest

from conftest import PLUMB, Plumb, spawn, stop

REDIS = shutil.which("redis-server")     # installed by tools/bootstrap.sh: missing, these tests fail
MESSAGES = [{"role": "user", "content": "hi"}]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp_path, *extra):
    assert REDIS, "redis-server is not installed (tools/bootstrap.sh installs it)"
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                    break
        except OSError:
            time.sleep(0.05)
    return proc, port


@pytest.fixture()
def redis(tmp_path):
    proc, port = start_redis(tmp_path)
    yield proc, port
    proc.kill()
    proc.wait()


def serve(tmp_path, mock, name, control, rules):
    d = tmp_path / name
    d.mkdir()
    config = d / "plumb.toml"
    config.write_text(f"[control]\n{control}\n{rules}\n[providers.openai]\nbase_url = \"{mock}\"\n")
    proc, url = spawn([PLUMB, "serve", "--config", config, "--data", d / "data", "--listen", "127.0.0.1:0"])
    return Plumb(proc, url, d / "data", config)


def call(p, user, client=None, max_tokens=1):
    c = client or httpx
    return c.post(f"{p.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": max_tokens},
                  headers={"Authorization": "Bearer sk-own", "Plumb-User-Id": user}, timeout=30)


RULES = """
[[limits]]
name = "batch"
scope = { user = "batch-job" }
requests_per_minute = 100

[[limits]]
name = "tokens"
scope = { user = "token-user" }
tokens_per_minute = 60

[[budgets]]
name = "spender"
scope = { user = "spender" }
amount_usd = 0.00004
period = "day"
"""


def test_two_servers_sharing_redis_admit_a_limit_and_a_budget_together(tmp_path, mock, redis):
    _, port = redis
    control = f'redis = "redis://127.0.0.1:{port}/0"\nredis_timeout = "200ms"'
    a = serve(tmp_path, mock, "a", control, RULES)
    b = serve(tmp_path, mock, "b", control, RULES)
    try:
        with httpx.Client() as ca, httpx.Client() as cb, concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda i: call(a if i % 2 else b, "batch-job", ca if i % 2 else cb), range(300)))
        ok = [r for r in rs if r.status_code == 200]
        assert len(ok) == 100, (len(ok), {r.status_code for r in rs})
        assert {r.status_code for r in rs} == {200, 429}
        assert all(r.json()["error"]["code"] == "rate_limited" for r in rs if r.status_code == 429)
        # Each server admitted some of the hundred, and the headers count the fleet's calls.
        assert 0 < sum(1 for i, r in enumerate(rs) if r.status_code == 200 and i % 2) < 100
        assert sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in ok) == list(range(100))

        # The budget: each call costs ~7.95e-6; 0.00004 is five calls' worth for the fleet, not ten.
        statuses = []
        for i in range(12):
            statuses.append(call(a if i % 2 else b, "spender").status_code)
            time.sleep(0.05)          # settled before the next is admitted
        assert statuses[:5] == [200] * 5 and set(statuses[6:]) == {429}, statuses
        # Tokens per minute, counted as calls settle: ~17 tokens a call, so the fleet's fifth is refused.
        tokens = []
        for i in range(8):
            tokens.append(call(a if i % 2 else b, "token-user").status_code)
            time.sleep(0.05)
        assert tokens[:4] == [200] * 4 and set(tokens[4:]) == {429}, tokens
        assert "plumb_control_redis_failures_total 0" in httpx.get(f"{a.url}/_plumb/metrics").text
    finally:
        stop(a.proc)
        stop(b.proc)


def test_when_redis_goes_away_the_policy_decides(tmp_path, mock, redis):
    proc, port = redis
    url = f'redis = "redis://127.0.0.1:{port}"\nredis_timeout = "100ms"'
    opened = serve(tmp_path, mock, "open", url, RULES)
    closed = serve(tmp_path, mock, "closed", url + '\nredis_limits = "fail_closed"', RULES)
    try:
        assert call(opened, "batch-job").status_code == 200
        assert call(closed, "batch-job").status_code == 200
        proc.kill()
        proc.wait()
        # fail_open: counted in this process alone (the call before counted in Redis, not here),
        # after any slot Redis leased it before it went (a tick tops a lease up to its rate: one).
        rs = [call(opened, "batch-job").status_code for _ in range(105)]
        assert rs.count(200) in (100, 101) and rs[-1] == 429, rs
        assert call(opened, "someone-else").status_code == 200          # no rule: never waits on Redis
        r = call(closed, "batch-job")
        assert r.status_code == 503 and r.json()["error"]["code"] == "control_unavailable", r.text
        assert r.headers["retry-after"] == "5"
        metrics = httpx.get(f"{opened.url}/_plumb/metrics").text
        failures = int(re.search(r"^plumb_control_redis_failures_total (\d+)$", metrics, re.M).group(1))
        assert failures >= 1
    finally:
        stop(opened.proc)
        stop(closed.proc)
    # Logged (once a minute): whichever failed first, a call's admission or the tick's settled counts.
    err = opened.proc.stderr.read()
    assert re.search(r"Redis at redis://127\.0\.0\.1:\d+/0 failed (admitting a call|sending settled counts)", err), err


def test_a_redis_with_a_password_and_a_database(tmp_path, mock):
    """AUTH and SELECT before any command: the password from PLUMB_REDIS_PASSWORD or the URL, never
    logged; a wrong password is a failure the policy handles (here fail_closed: 503), and says why."""
    proc, port = start_redis(tmp_path, "--requirepass", "s3cret-redis")
    try:
        good = serve(tmp_path, mock, "good", f'redis = "redis://:s3cret-redis@127.0.0.1:{port}/3"', RULES)
        bad = serve(tmp_path, mock, "bad", f'redis = "redis://:wrong@127.0.0.1:{port}/3"\nredis_limits = "fail_closed"', RULES)
        try:
            assert call(good, "batch-job").status_code == 200
            r = call(bad, "batch-job")
            assert r.status_code == 503 and r.json()["error"]["code"] == "control_unavailable", r.text
            # The count went to database 3, under the limit's key, and not to database 0: the call,
            # plus any slot a tick leased ahead of the next calls.
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"AUTH s3cret-redis\r\nSELECT 3\r\nHGET plumb:w:batch:r sum\r\nSELECT 0\r\nEXISTS plumb:w:batch:r\r\n")
                time.sleep(0.3)
                reply = s.recv(256)
                m = re.fullmatch(rb"\+OK\r\n\+OK\r\n\$\d+\r\n(\d+)\r\n\+OK\r\n:0\r\n", reply)
                assert m and int(m.group(1)) >= 1, reply
        finally:
            stop(good.proc)
            stop(bad.proc)
        err = bad.proc.stderr.read()
        assert "refused the connection's setup" in err and "wrong" not in err, err
    finally:
        proc.kill()
        proc.wait()


def redis_command(port, *parts):
    """One RESP command over a raw socket; returns the reply's first line and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"*{len(parts)}\r\n".encode() + b"".join(f"${len(str(p))}\r\n{p}\r\n".encode() for p in parts))
        time.sleep(0.2)
        return s.recv(65536).decode()


def metric(p, name):
    text = httpx.get(f"{p.url}/_plumb/metrics").text
    return int(re.search(rf"^{name} (\d+)$", text, re.M).group(1))


LEASED = """
[[limits]]
name = "wide"
scope = { user = "fleet" }
requests_per_minute = 1000

[[budgets]]
name = "wide-budget"
scope = { user = "spend-fleet" }
amount_usd = 0.0008
period = "day"
"""


def test_leases_admit_most_calls_without_a_round_trip_and_never_past_a_rule(tmp_path, mock, redis):
    """Far from its edge a rule is counted from leases that Redis granted ahead (no round trip);
    near it, call by call. Two servers under 1,500 calls of a 1,000 rpm limit admit 1,000 less
    at most what a lease left unused, never more; a budget of ~100 calls' worth, hammered by
    both, ends within one call of its amount, and after both stop Redis holds exactly their
    stores' spend and nothing in flight."""
    _, port = redis
    control = f'redis = "redis://127.0.0.1:{port}/0"\nredis_timeout = "500ms"'
    a = serve(tmp_path, mock, "a", control, LEASED)
    b = serve(tmp_path, mock, "b", control, LEASED)
    stopped = False
    try:
        with httpx.Client() as ca, httpx.Client() as cb, concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda i: call(a if i % 2 else b, "fleet", ca if i % 2 else cb), range(1500)))
            ok = [r for r in rs if r.status_code == 200]
            assert 996 <= len(ok) <= 1000, len(ok)
            assert {r.status_code for r in rs} == {200, 429}
            remaining = [int(r.headers["x-ratelimit-remaining-requests"]) for r in ok]
            assert min(remaining) >= 0 and max(remaining) <= 999 and len(set(remaining)) >= 990
            leased = metric(a, "plumb_control_lease_admissions_total") + metric(b, "plumb_control_lease_admissions_total")
            trips = metric(a, "plumb_control_redis_round_trips_total") + metric(b, "plumb_control_redis_round_trips_total")
            assert leased >= 500 and trips < 1000, (leased, trips)

            # max_tokens 64: each call's estimate is above its cost, the case the bound is for.
            spend = list(ex.map(lambda i: call(a if i % 2 else b, "spend-fleet", ca if i % 2 else cb, 64), range(300)))
        admitted = sum(1 for r in spend if r.status_code == 200)
        assert {r.status_code for r in spend} == {200, 429} and 60 <= admitted <= 101, admitted
        sql = "SELECT sum(cost_usd) AS c, max(cost_usd) AS m FROM spans WHERE user_id = 'spend-fleet' AND status = 200"
        costs = []
        for p in (a, b):
            deadline = time.time() + 10
            while True:
                rows = httpx.post(f"{p.url}/_plumb/query", json={"sql": sql}).json()
                if rows and rows[0]["c"] is not None or time.time() > deadline:
                    break
                time.sleep(0.2)
            costs.append(rows[0])
        total = sum(float(c["c"]) for c in costs)
        largest = max(float(c["m"]) for c in costs)
        assert total <= 0.0008 + largest + 1e-12, (total, largest)
        stop(a.proc)
        stop(b.proc)
        stopped = True
        # Drained at shutdown: Redis's spend is the stores' to the nanodollar, nothing in flight.
        keys = redis_command(port, "KEYS", "plumb:b*:wide-budget|*")
        spent_key = re.search(r"(plumb:bs:wide-budget\|\d+)", keys).group(1)
        flight_key = spent_key.replace(":bs:", ":bf:")
        spent = int(redis_command(port, "GET", spent_key).split("\r\n")[1])
        assert spent == round(total * 1e9), (spent, total)
        flight = redis_command(port, "GET", flight_key)
        assert flight.startswith("$-1") or flight.split("\r\n")[1] == "0", flight
    finally:
        if not stopped:
            stop(a.proc)
            stop(b.proc)
