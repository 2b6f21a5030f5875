"""`plumb tail` against a running `plumb serve`: spans appear as they land, --where filters them,
and a bad --where is one clear error pointing into the expression."""
import subprocess
import threading
import time

import httpx2 as httpx

from conftest import PLUMB


def read_lines(proc, into):
    for line in proc.stdout:
        into.append(line.rstrip("\n"))


def test_tail_prints_new_spans_and_filters(plumb):
    everything = subprocess.Popen([PLUMB, "tail", "--data", plumb.data, "--interval", "0.1"], stdout=subprocess.PIPE, text=True)
    failures = subprocess.Popen([PLUMB, "tail", "--data", plumb.data, "--interval", "0.1", "--where", "status >= 500"],
                                stdout=subprocess.PIPE, text=True)
    lines_all, lines_failed = [], []
    for p, dest in ((everything, lines_all), (failures, lines_failed)):
        threading.Thread(target=read_lines, args=(p, dest), daemon=True).start()
    try:
        time.sleep(0.5)
        ids = []
        for k in range(3):
            r = httpx.post(f"{plumb.url}/openai/v1/chat/completions", headers={"Plumb-User-Id": f"tail-{k}"},
                           json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
            ids.append(r.headers["plumb-span-id"])
        bad = httpx.post(f"{plumb.url}/openai/v1/chat/completions", headers={"X-Mock-Fault": "500"},
                         json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        assert bad.status_code == 500
        ids.append(bad.headers["plumb-span-id"])
        deadline = time.time() + 5
        while time.time() < deadline and not (all(any(i in l for l in lines_all) for i in ids) and lines_failed):
            time.sleep(0.05)
        for k, i in enumerate(ids):
            line = next(l for l in lines_all if i in l)
            assert (" 500 " if k == 3 else " 200 ") in line and "openai/gpt-4o-mini" in line and "\x1b[" not in line
        assert len(lines_failed) == 1 and ids[3] in lines_failed[0]
        assert sum(ids[0] in l for l in lines_all) == 1          # each span once
    finally:
        everything.kill(); failures.kill()


def test_tail_rejects_a_bad_where(plumb):
    r = subprocess.run([PLUMB, "tail", "--data", plumb.data, "--where", "stauts >= 500"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert r.stderr.splitlines()[:3] == ['plumb: --where: line 1:1: unknown column "stauts"', "  stauts >= 500", "  ^"]
