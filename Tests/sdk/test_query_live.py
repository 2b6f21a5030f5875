"""The query engine against a running `plumb serve`: spans are visible to `plumb query` (another
process) within 2 seconds of their response, and POST /_plumb/query answers with the same rows."""
import json
import subprocess
import time

import httpx2 as httpx

from conftest import PLUMB


SQL = {"Content-Type": "application/sql"}


def cli(data, sql, fmt="json"):
    r = subprocess.run([PLUMB, "query", "--data", data, "--format", fmt, sql], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def chat(plumb, user):
    r = httpx.post(f"{plumb.url}/openai/v1/chat/completions", headers={"Plumb-User-Id": user, "Authorization": "Bearer sk-test"},
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]})
    assert r.status_code == 200, r.text
    return r.headers["plumb-span-id"], time.monotonic()


def test_a_span_is_visible_to_plumb_query_within_two_seconds(plumb):
    chat(plumb, "warm-up")
    for k in range(3):
        span_id, done = chat(plumb, f"user-{k}")
        sql = f"SELECT span_id, user_id, model, input_tokens FROM spans WHERE span_id = '{span_id}'"
        while True:
            rows = json.loads(cli(plumb.data, sql))
            if rows:
                break
            assert time.monotonic() - done < 2.0, "span not visible to plumb query within 2 s"
            time.sleep(0.05)
        elapsed = time.monotonic() - done
        assert elapsed < 2.0
        assert rows[0]["user_id"] == f"user-{k}" and rows[0]["model"].startswith("gpt-4o-mini")


def test_query_endpoint_returns_the_same_rows_as_the_cli(plumb):
    for k in range(5):
        chat(plumb, f"u{k % 2}")
    sql = "SELECT user_id, count(*) AS n, sum(input_tokens) AS tokens FROM spans GROUP BY user_id ORDER BY user_id"
    deadline = time.monotonic() + 3
    while True:
        expected = json.loads(cli(plumb.data, sql))
        if sum(r["n"] for r in expected) == 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [r["n"] for r in expected] == [3, 2]
    r = httpx.post(f"{plumb.url}/_plumb/query", content=sql, headers=SQL)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json() == expected
    r = httpx.post(f"{plumb.url}/_plumb/query", json={"sql": sql})
    assert r.json() == expected
    r = httpx.post(f"{plumb.url}/_plumb/query?format=csv", content=sql, headers=SQL)
    assert r.text.splitlines()[0] == "user_id,n,tokens" and len(r.text.splitlines()) == 3
    r = httpx.post(f"{plumb.url}/_plumb/query?format=jsonl", content=sql, headers=SQL)
    assert [json.loads(l) for l in r.text.splitlines()] == expected
    # Queries read every stored prompt: a GET (an <img> tag) or a body a page may send another
    # site without asking (a form, text/plain) is refused.
    assert httpx.get(f"{plumb.url}/_plumb/query", params={"sql": sql}).status_code == 405
    for t in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        assert httpx.post(f"{plumb.url}/_plumb/query", content=sql, headers={"Content-Type": t}).status_code == 415


def test_query_endpoint_errors_point_at_the_problem(plumb):
    r = httpx.post(f"{plumb.url}/_plumb/query", content="SELECT modle\nFROM spans", headers=SQL)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "query_error" and err["line"] == 1 and err["column"] == 8
    assert "did you mean \"model\"" in err["hint"] and "^" in err["detail"]
    r = httpx.post(f"{plumb.url}/_plumb/query", content="", headers=SQL)
    assert r.status_code == 400 and "no query" in r.json()["error"]["message"]
    r = httpx.post(f"{plumb.url}/_plumb/query", json={"query": "SELECT 1"})
    assert r.status_code == 400 and "sql" in r.json()["error"]["message"]
    r = httpx.delete(f"{plumb.url}/_plumb/query")
    assert r.status_code == 405
