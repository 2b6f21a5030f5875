"""Alerts (issue 25) from the real `plumb serve`: an incident the mock injects opens once and
resolves once at a webhook and a Slack-format receiver, a restart in between sends nothing
twice; a failing target is retried with backoff and shows in /_plumb/metrics and `plumb alerts`;
spend, budget and query rules fire; `plumb alerts test` mails through aiosmtpd."""
import email
import email.policy
import json
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2 as httpx
from aiosmtpd.controller import Controller

from conftest import PLUMB, Plumb, spawn, stop


class Receiver:
    """A webhook receiver: records each POST (path, JSON); answers `fail_first` with 500."""

    def __init__(self, fail_first=0):
        self.posts, self.fail_left, self.lock = [], fail_first, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    failing = receiver.fail_left > 0
                    if failing:
                        receiver.fail_left -= 1
                    else:
                        receiver.posts.append((self.path, json.loads(body)))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if failing else b"ok")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, path):
        with self.lock:
            return [b for p, b in self.posts if p == path]

    def wait(self, path, n, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.events(path)) >= n:
                return self.events(path)
            time.sleep(0.2)
        return self.events(path)

    def close(self):
        self.server.shutdown()


def serve(tmp_path, mock, alerts, extra=""):
    config = tmp_path / "plumb.toml"
    config.write_text(extra + "".join(f'[providers.{p}]\nbase_url = "{mock}"\n' for p in ("openai", "anthropic")) + alerts)
    proc, url = spawn([PLUMB, "serve", "--config", config, "--data", tmp_path / "data", "--listen", "127.0.0.1:0"])
    return Plumb(proc, url, tmp_path / "data", config)


def call(p, fault=None, **headers):
    h = {"Authorization": "Bearer sk-own", **headers}
    if fault:
        h["X-Mock-Fault"] = fault
    return httpx.post(f"{p.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                      headers=h, timeout=30)


def plumb_alerts(p, *args):
    return subprocess.run([str(PLUMB), "alerts", *args, "--config", str(p.config), "--data", str(p.data)],
                          capture_output=True, text=True, timeout=60)


def test_an_incident_opens_and_resolves_once_across_a_restart(tmp_path, mock):
    rx = Receiver()
    alerts = f"""
[[alerts]]
name = "provider-down"
kind = "incident"
interval = "1s"
targets = [{{ webhook = "{rx.url}/hook" }}, {{ slack = "{rx.url}/slack" }}]
"""
    p = serve(tmp_path, mock, alerts)
    try:
        for _ in range(8):
            assert call(p, fault="500").status_code == 500
        opened = rx.wait("/hook", 1, 30)
        assert len(opened) == 1, opened
        a = opened[0]["plumb_alert"]
        assert (a["rule"], a["kind"], a["event"], a["instance"], a["state"]) == ("provider-down", "incident", "open", "openai", "outage")
        assert "SELECT * FROM spans WHERE provider = 'openai'" in a["query"] and a["figures"]["affected"] == 8
        slack = rx.wait("/slack", 1, 10)
        assert len(slack) == 1 and slack[0]["text"].startswith("[plumb] OPEN provider-down: outage on openai")
        assert [b["type"] for b in slack[0]["blocks"]][:2] == ["section", "section"]
        # A restart while the incident is open: nothing is sent again.
        stop(p.proc)
        p = serve(tmp_path, mock, alerts)
        time.sleep(4)
        assert len(rx.events("/hook")) == 1 and len(rx.events("/slack")) == 1
        # Resolved once its last bad minute is neither this minute nor the one before.
        done = rx.wait("/hook", 2, 150)
        assert [e["plumb_alert"]["event"] for e in done] == ["open", "resolve"], done
        assert rx.wait("/slack", 2, 10)[1]["text"].startswith("[plumb] RESOLVED provider-down")
        time.sleep(3)
        assert len(rx.events("/hook")) == 2 and len(rx.events("/slack")) == 2
        out = plumb_alerts(p)
        assert out.returncode == 0 and "provider-down\tincident\tevery 1 s\tok" in out.stdout, out.stdout
        assert "resolve openai" in out.stdout and "sent " in out.stdout
    finally:
        stop(p.proc)
        rx.close()


def test_a_failing_target_is_retried_and_counted(tmp_path, mock):
    rx = Receiver(fail_first=2)
    p = serve(tmp_path, mock, f"""
[[alerts]]
name = "any-traffic"
kind = "query"
sql = "SELECT provider, count(*) AS calls FROM spans GROUP BY provider"
interval = "1s"
targets = [{{ webhook = "{rx.url}/q" }}]
""")
    try:
        assert call(p).status_code == 200
        got = rx.wait("/q", 1, 40)            # two failures: retried after 5 s, then 10 s
        assert len(got) == 1 and got[0]["plumb_alert"]["instance"] == "openai"
        assert got[0]["plumb_alert"]["figures"] == {"provider": "openai", "calls": "1"}
        metrics = httpx.get(f"{p.url}/_plumb/metrics").text
        assert 'plumb_alert_delivery_failures_total{rule="any-traffic",target="webhook:' in metrics
        assert 'plumb_alert_messages_sent_total{rule="any-traffic"' in metrics
        assert "plumb_alert_messages_pending 0" in metrics
        out = plumb_alerts(p)
        assert "any-traffic\tquery\tevery 1 s\t1 open" in out.stdout and "after 3 attempts" in out.stdout, out.stdout
    finally:
        stop(p.proc)
        rx.close()


def test_spend_and_budget_rules_fire_on_the_calls_they_watch(tmp_path, mock):
    rx = Receiver()
    p = serve(tmp_path, mock, f"""
[[budgets]]
name = "team-search"
scope = {{ property = "team", value = "search" }}
amount_usd = 0.000019
period = "month"

[[alerts]]
name = "search-budget"
kind = "budget"
budget = "team-search"
thresholds = [40, 100]
interval = "1s"
targets = [{{ webhook = "{rx.url}/budget" }}]

[[alerts]]
name = "user-spend"
kind = "spend"
window = "1h"
by = "user"
above_usd = 0.00001
interval = "1s"
targets = [{{ webhook = "{rx.url}/spend" }}]
""")
    try:
        assert call(p, **{"Plumb-Property-Team": "search", "Plumb-User-Id": "ann"}).status_code == 200     # ~7.95e-6 of 1.9e-5: 42%
        first = rx.wait("/budget", 1, 15)
        assert [(e["plumb_alert"]["event"], e["plumb_alert"]["state"]) for e in first] == [("open", "40%")], first
        assert call(p, **{"Plumb-Property-Team": "search", "Plumb-User-Id": "ann"}).status_code == 200
        assert call(p, **{"Plumb-Property-Team": "search", "Plumb-User-Id": "ann"}).status_code == 200     # past 100%
        states = [(e["plumb_alert"]["event"], e["plumb_alert"]["state"]) for e in rx.wait("/budget", 2, 15)]
        assert states == [("open", "40%"), ("change", "100%")], states
        spend = rx.wait("/spend", 1, 15)
        assert len(spend) == 1 and spend[0]["plumb_alert"]["instance"] == "ann" and "over 0.00001 USD" in spend[0]["plumb_alert"]["summary"]
    finally:
        stop(p.proc)
        rx.close()


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def test_alerts_test_sends_mail_and_names_a_bad_rule(tmp_path, mock):
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        config = tmp_path / "plumb.toml"
        config.write_text(f"""
[digest]
smtp_url = "smtp://127.0.0.1:{port}"
from = "plumb@example.com"
to = "digest@example.com"

[[alerts]]
name = "mail-me"
kind = "incident"
targets = [{{ email = "oncall@example.com" }}]
""")
        p = Plumb(None, "", tmp_path / "data", config)
        r = plumb_alerts(p, "test", "mail-me")
        assert r.returncode == 0, r.stderr
        assert "sent to email:oncall@example.com" in r.stdout
        assert len(inbox.messages) == 1
        sender, rcpts, raw = inbox.messages[0]
        assert sender == "plumb@example.com" and rcpts == ["oncall@example.com"]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Subject"] == "[plumb] TEST mail-me: a test message from plumb alerts test"
        r = plumb_alerts(p, "test", "nope")
        assert r.returncode == 1 and "no alert rule named 'nope' (rules: mail-me)" in r.stderr
    finally:
        smtp.stop()
