"""Digest delivery through libcurl, against real local servers: an SMTP exchange with aiosmtpd
(headers, both parts, AUTH without the password ever printed, STARTTLS and SMTPS with the
server's certificate checked against a given CA file), servers that refuse or drop the
connection mid-DATA (retries, then a clear error with the server's answer), webhooks (the JSON
digest, a Slack message, an HTTP error), and the schedule in `plumb serve` across restarts (no
double send, no gap, catch-up)."""
import datetime
import email
import email.policy
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import MOCK, PLUMB, ROOT, spawn, start_plumb, stop

YESTERDAY = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)).isoformat()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("digest-data")
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)).strftime("%Y-%m-%dT00:00:00")
    subprocess.run([sys.executable, ROOT / "tools" / "gen_spans.py", "--count", "6000", "--seed", "5", "--start", start, "--days", "3",
                    "--out", tmp / "s.jsonl"], check=True, capture_output=True)
    subprocess.run([PLUMB, "import", "--data", tmp / "data", tmp / "s.jsonl"], check=True, capture_output=True)
    return tmp / "data"


def plumb_digest(data, *args, env=None):
    return subprocess.run([PLUMB, "digest", "--data", data, "--date", YESTERDAY, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.login_data))
        return "250 Message accepted"


def test_smtp_delivers_one_email_with_text_and_html(data):
    inbox, port = Inbox(), free_port()
    c = Controller(inbox, hostname="127.0.0.1", port=port)
    c.start()
    try:
        r = plumb_digest(data, "--smtp", f"smtp://127.0.0.1:{port}", "--from", "plumb@example.com", "--to", "cto@example.com",
                         "--to", "finance@example.com")
        assert r.returncode == 0, r.stderr
        assert f"sent to smtp://127.0.0.1:{port} → cto@example.com, finance@example.com" in r.stderr
    finally:
        c.stop()
    assert len(inbox.messages) == 1
    sender, rcpts, raw, _ = inbox.messages[0]
    assert sender == "plumb@example.com" and rcpts == ["cto@example.com", "finance@example.com"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"].startswith(f"Plumb spend digest {YESTERDAY}: $")
    assert msg["From"] == "plumb@example.com" and msg["To"] == "cto@example.com, finance@example.com"
    assert msg["Date"] and msg["Message-ID"] and msg.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content() for p in msg.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert parts["text/plain"] == plumb_digest(data, "--format", "text").stdout
    assert parts["text/html"] == plumb_digest(data, "--format", "html").stdout


def test_smtp_auth_and_the_password_is_never_printed(data):
    seen = []

    def auth(server, session, envelope, mechanism, creds):
        seen.append((mechanism, creds.login.decode(), creds.password.decode()))
        return AuthResult(success=True)

    inbox, port = Inbox(), free_port()
    c = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    c.start()
    try:
        r = plumb_digest(data, "--smtp", f"smtp://127.0.0.1:{port}", "--from", "plumb@example.com", "--to", "a@example.com",
                         "--smtp-user", "plumb-bot", env={"PLUMB_SMTP_PASSWORD": "s3cret-Pa55"})
        assert r.returncode == 0, r.stderr
    finally:
        c.stop()
    assert seen and seen[0][1:] == ("plumb-bot", "s3cret-Pa55")
    assert len(inbox.messages) == 1
    assert "s3cret" not in r.stdout + r.stderr


def scripted_smtp(replies_before_close):
    """A server that answers each connection with a script, then hangs up; counts connections."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    count = [0]

    def run():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            count[0] += 1
            f = conn.makefile("rwb")
            for expect, reply in replies_before_close:
                if expect:
                    line = f.readline()
                    if not line:
                        break
                f.write(reply.encode() + b"\r\n")
                f.flush()
                if reply.startswith("354"):
                    f.read(200)          # some of the message, then drop the connection mid-DATA
                    break
            f.close()
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    return srv, count


def send_to_scripted(data, script, retries):
    """plumb digest to a scripted SMTP server: (result, connections, port)."""
    srv, count = scripted_smtp(script)
    try:
        port = srv.getsockname()[1]
        r = plumb_digest(data, "--smtp", f"smtp://127.0.0.1:{port}", "--from", "plumb@example.com", "--to", "a@example.com",
                         "--retries", retries, "--retry-delay", "0.05")
    finally:
        srv.close()
    return r, count, port


class TLSInbox(Inbox):
    """Records, with each message, whether its session ran over TLS."""
    def __init__(self):
        super().__init__()
        self.tls = []

    async def handle_DATA(self, server, session, envelope):
        # STARTTLS sets the session's `ssl`; implicit TLS (SMTPS) shows on the transport.
        self.tls.append(session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the test's own CA) and a server context with it."""
    tmp = tmp_path_factory.mktemp("tls")
    key, crt = tmp / "key.pem", tmp / "crt.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", crt], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    return crt, ctx


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_tls_delivery_checks_the_certificate_against_the_ca_file(data, certificate, mode):
    crt, ctx = certificate
    inbox, port = TLSInbox(), free_port()
    if mode == "starttls":
        c = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
        url = f"smtp://127.0.0.1:{port}"
    else:
        c = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=ctx)
        url = f"smtps://127.0.0.1:{port}"
    c.start()
    try:
        args = ["--smtp", url, "--from", "plumb@example.com", "--to", "a@example.com", "--retries", "0"]
        untrusted = plumb_digest(data, *args)
        assert untrusted.returncode == 1 and not inbox.messages, untrusted.stderr
        assert "certificate" in untrusted.stderr.lower(), untrusted.stderr
        trusted = plumb_digest(data, *args, "--smtp-ca-file", crt)
        assert trusted.returncode == 0, trusted.stderr
        missing = plumb_digest(data, *args, "--smtp-ca-file", crt.parent / "missing.pem")
        assert missing.returncode != 0 and "missing.pem' cannot be read" in missing.stderr, missing.stderr
    finally:
        c.stop()
    assert len(inbox.messages) == 1 and inbox.tls == [True]
    msg = email.message_from_bytes(inbox.messages[0][2], policy=email.policy.default)
    assert {p.get_content_type() for p in msg.iter_parts()} == {"text/plain", "text/html"}


def test_refusing_server_gives_retries_then_its_answer(data):
    r, count, port = send_to_scripted(data, [(False, "554 5.3.2 mail.example.com does not accept mail from you")], 2)
    assert r.returncode == 1
    assert count[0] == 3
    assert r.stderr.count("retrying in") == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"plumb: error: delivery to smtp://127.0.0.1:{port} → a@example.com failed after 3 attempts")
    assert "554 5.3.2 mail.example.com does not accept mail from you" in last, last


def test_server_dropping_mid_data_is_an_error_after_retries(data):
    r, count, _ = send_to_scripted(data, [(False, "220 mx ESMTP"), (True, "250 mx"), (True, "250 sender ok"), (True, "250 rcpt ok"),
                                          (True, "354 go ahead")], 1)
    assert r.returncode == 1 and count[0] == 2
    assert "failed after 2 attempts" in r.stderr and "354 go ahead" in r.stderr, r.stderr


class Hooks:
    def __init__(self, status=200, reply=b"ok"):
        self.posts = []
        hooks = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hooks.posts.append((self.path, self.headers.get("Content-Type"), body))
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def test_webhooks_json_and_slack(data):
    hooks = Hooks()
    try:
        r = plumb_digest(data, "--webhook", hooks.url, "--webhook-format", "json")
        assert r.returncode == 0, r.stderr
        r = plumb_digest(data, "--webhook", hooks.url, "--webhook-format", "slack")
        assert r.returncode == 0, r.stderr
    finally:
        hooks.close()
    (path, ctype, body), (_, _, slack) = hooks.posts
    assert path == "/hook" and ctype == "application/json"
    got, want = json.loads(body), json.loads(plumb_digest(data, "--format", "json").stdout)
    got.pop("generated_at"); want.pop("generated_at")
    assert got == want
    s = json.loads(slack)
    assert s["text"].startswith(f"Plumb spend digest {YESTERDAY}") and s["blocks"][0]["type"] == "header"
    assert all(b["type"] == "section" and len(b["text"]["text"]) <= 3000 for b in s["blocks"][1:])


def test_webhook_http_error_is_reported_with_the_answer(data):
    hooks = Hooks(status=500, reply=b'{"error":"channel_is_archived"}')
    try:
        r = plumb_digest(data, "--webhook", hooks.url, "--retries", "1", "--retry-delay", "0.05")
    finally:
        hooks.close()
    assert r.returncode == 1 and len(hooks.posts) == 2
    assert 'answered HTTP 500: {"error":"channel_is_archived"}' in r.stderr and "failed after 2 attempts" in r.stderr


def test_schedule_sends_each_period_once_across_restarts_and_catches_up(data, tmp_path):
    hooks = Hooks()
    mock, mock_url = spawn([MOCK, "--listen", "127.0.0.1:0"])
    config = f'[digest]\nperiod = "day"\ntime = "00:00"\ntimezone = "UTC"\nwebhook = "{hooks.url}"\nwebhook_format = "json"\n\n'

    def run_serve(wait_for):
        p = start_plumb(tmp_path, mock_url, extra_config=config, data=data)
        deadline = time.time() + 30
        while time.time() < deadline and len(hooks.posts) < wait_for:
            time.sleep(0.1)
        time.sleep(1.5)               # and nothing more arrives
        stop(p.proc)

    def labels():
        return [json.loads(b)["period"]["first_day"] for _, _, b in hooks.posts]

    try:
        run_serve(1)                  # nothing sent before: the latest due day only
        assert labels() == [YESTERDAY]
        run_serve(1)                  # a restart sends nothing again
        assert labels() == [YESTERDAY]
        # As if the server had been down since the digest of three days ago went out.
        three = (datetime.date.fromisoformat(YESTERDAY) - datetime.timedelta(days=2)).isoformat()
        with sqlite3.connect(data / "catalog.sqlite") as db:
            (target,) = db.execute("SELECT target FROM digests_sent").fetchone()
            db.execute("DELETE FROM digests_sent")
            db.execute("INSERT INTO digests_sent VALUES ('day', ?, 'UTC', ?, 0)", (three, target))
        run_serve(3)
        two = (datetime.date.fromisoformat(YESTERDAY) - datetime.timedelta(days=1)).isoformat()
        assert labels() == [YESTERDAY, two, YESTERDAY]          # caught up in order, none skipped
        with sqlite3.connect(data / "catalog.sqlite") as db:
            assert [r[0] for r in db.execute("SELECT first_day FROM digests_sent ORDER BY 1")] == [three, two, YESTERDAY]
    finally:
        stop(mock)
        hooks.close()
