#!/usr/bin/env python3
"""The 8 benchmark queries (query_bench.py's, same NOW) against one plumb store with
plumb-bench, medians per query: run once on the compacted store, idle, and once while plumb serve
appends to it (query_under_load.sh). Prints one line per query and, with --compare, the table of
both runs. Figures only; asserts nothing."""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from query_bench import NOW, QUERIES  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plumb-data", required=True)
    ap.add_argument("--plumb-bench", default=".build/release/plumb-bench")
    ap.add_argument("--span-id", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True, help="JSON file for this run's medians")
    ap.add_argument("--compare", help="an earlier run's JSON: print both side by side")
    a = ap.parse_args()
    queries = list(QUERIES)
    queries[4] = (queries[4][0], "SELECT span_id, ts_start, provider, model, status, latency_ms, cost_usd, user_id, properties "
                                 f"FROM spans WHERE span_id = '{a.span_id}'")
    medians = {}
    for k, (name, sql) in enumerate(queries, 1):
        out = subprocess.run([a.plumb_bench, "query", a.plumb_data, "--now", NOW, "--runs", str(a.runs), "--warmup", "1",
                              "--threads", str(a.threads), sql], capture_output=True, text=True, check=True).stdout
        m = re.search(r"median_ms=([\d.]+) rows=(\d+)", out)
        if not m:
            sys.exit(f"plumb-bench: {out}")
        medians[str(k)] = {"name": name, "ms": float(m.group(1)), "rows": int(m.group(2))}
        print(f"{k}. {name:<58} {float(m.group(1)):9.1f} ms  {m.group(2)} rows", flush=True)
    with open(a.out, "w") as f:
        json.dump(medians, f)
    if a.compare:
        with open(a.compare) as f:
            idle = json.load(f)
        print(f"\n{'query':<61} {'idle ms':>9} {'loaded ms':>9} {'ratio':>6}")
        for k, m in medians.items():
            i = idle[k]
            note = "" if i["rows"] == m["rows"] else f"  (rows {i['rows']} -> {m['rows']}: the live spans)"
            print(f"{k}. {m['name']:<58} {i['ms']:9.1f} {m['ms']:9.1f} {m['ms'] / i['ms']:6.2f}{note}")


if __name__ == "__main__":
    main()
