"""`plumb dash` refreshing live while `plumb serve` writes: spans proxied after the dashboard
opened appear on it within a refresh or two, and the overview's count moves."""
import re
import sys
import time
from pathlib import Path

import httpx2 as httpx

from conftest import PLUMB

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from tmux_pane import Pane  # noqa: E402


def test_new_spans_appear_on_the_live_tail(plumb):
    pane = Pane(160, 50, env={"LANG": "C.UTF-8", "TERM": "xterm-256color"})
    try:
        pane.run(f"{PLUMB} dash tail --data {plumb.data} --interval 0.3")
        pane.wait(lambda t: "Latest spans" in t and " ms " in t.split("\n")[0], what="the tail dashboard")
        users = [f"live-{k}-{int(time.time())}" for k in range(3)]
        for u in users:
            r = httpx.post(f"{plumb.url}/openai/v1/chat/completions", headers={"Plumb-User-Id": u},
                           json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 200
        t = pane.wait(lambda t: all(u in t for u in users), timeout=10, what="the new spans")
        assert all(re.search(rf"200\s+openai\s+gpt-4o-mini.*{u}", t) for u in users), t
        pane.keys(":")
        pane.type("overview")
        pane.keys("Enter")
        pane.wait(lambda t: "Requests/s" in t, what="the overview")
        before = pane.text()
        for k in range(20):
            httpx.post(f"{plumb.url}/openai/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
        top = lambda t: re.search(r"gpt-4o-mini\s+█+\s+(\d+)", t)
        n0 = int(top(before).group(1))
        pane.wait(lambda t: top(t) is not None and int(top(t).group(1)) == n0 + 20, timeout=10, what="the count to move by 20")
        pane.keys("q")
    finally:
        pane.close()
