#!/usr/bin/env python3
"""Query benchmark (issue 4): the eight queries of the issue over the same 10M spans, in one run,
in Plumb (in process, `plumb-bench query`) and in DuckDB over the spans as Parquet and as its own
table, each with 1 and 2 threads. Each measurement follows a warm-up run of the same query; the
targets are interleaved round by round; prints medians of --runs rounds and the ratios the
targets are about (each side's best thread count). Asserts nothing.

    query_bench.py --plumb-data DIR --parquet-src FILE.parquet --workdir DIR [--runs 5]

--parquet-src is parquet_size.py's spans.zstd.parquet (timestamps with a UTC zone); this script
writes a copy whose timestamps are plain TIMESTAMP (as Plumb's and the differential suite's) and
builds the DuckDB table from it, so both engines do the same calendar math.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import duckdb

NOW = "2026-10-31T00:00:00Z"
DUCK_NOW = "TIMESTAMP '2026-10-31 00:00:00'"

QUERIES = [
    ("spend and requests by model, all time",
     "SELECT model, sum(cost_usd) AS spend, count(*) AS requests FROM spans GROUP BY model ORDER BY spend DESC NULLS LAST, model"),
    ("hourly error rate per provider, last 24 h",
     "SELECT date_trunc('hour', ts_start) AS hour, provider, count_if(status >= 500) / count(*) AS error_rate "
     "FROM spans WHERE ts_start >= now() - INTERVAL '24 hours' GROUP BY ALL ORDER BY 1, 2"),
    ("p50/p95/p99 latency per provider and model, last 7 days",
     "SELECT provider, model, quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.95) AS p95, "
     "quantile_cont(latency_ms, 0.99) AS p99 FROM spans WHERE ts_start >= now() - INTERVAL '7 days' GROUP BY ALL ORDER BY 1, 2"),
    ("top 20 users by spend, last 7 days",
     "SELECT user_id, sum(cost_usd) AS spend FROM spans WHERE ts_start >= now() - INTERVAL '7 days' "
     "GROUP BY user_id ORDER BY spend DESC NULLS LAST, user_id LIMIT 20"),
    ("one span by span_id", None),   # filled in with an id from the middle of the data
    ("daily spend per properties['team']",
     "SELECT date_trunc('day', ts_start) AS day, properties['team'] AS team, sum(cost_usd) AS spend "
     "FROM spans GROUP BY ALL ORDER BY 1, 2 NULLS LAST"),
    ("5-minute buckets for one provider in an incident window",
     "SELECT time_bucket(INTERVAL '5 minutes', ts_start) AS bucket, count(*) AS requests, count_if(status >= 500) AS errors, "
     "quantile_cont(ttft_ms, 0.95) AS p95_ttft FROM spans WHERE provider = 'openai' "
     "AND ts_start BETWEEN '2026-10-22 22:00:00' AND '2026-10-23 00:30:00' GROUP BY 1 ORDER BY 1"),
    ("status >= 500 and latency over 10 s by provider and model",
     "SELECT provider, model, count(*) AS n FROM spans WHERE status >= 500 AND latency_ms > 10000 "
     "GROUP BY ALL ORDER BY 3 DESC, 1, 2"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plumb-data", required=True)
    ap.add_argument("--parquet-src", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--plumb-bench", default=".build/release/plumb-bench")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    parquet = os.path.join(a.workdir, "spans-bench.parquet")
    db = os.path.join(a.workdir, "spans-bench.duckdb")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if not os.path.exists(parquet):
        con.execute(f"""COPY (SELECT * REPLACE (ts_start::TIMESTAMP AS ts_start, ts_end::TIMESTAMP AS ts_end,
                                                status::BIGINT AS status)
                            FROM read_parquet('{a.parquet_src}'))
                        TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)""")
    if not os.path.exists(db):
        c = duckdb.connect(db)
        c.execute(f"CREATE TABLE spans AS SELECT * FROM read_parquet('{parquet}')")
        c.execute("CHECKPOINT")
        c.close()
    con.close()

    span_id = duckdb.connect().execute(f"SELECT span_id FROM read_parquet('{parquet}') LIMIT 1 OFFSET 5000000").fetchall()[0][0]
    queries = list(QUERIES)
    queries[4] = (queries[4][0], "SELECT span_id, ts_start, provider, model, status, latency_ms, cost_usd, user_id, properties "
                                 f"FROM spans WHERE span_id = '{span_id}'")

    # One run = every query on every target once; rounds interleave the targets (the machine is
    # shared and noisy: a slow minute then hits all targets alike). Medians per query and target.
    cons = {}
    for threads in (1, 2):
        for kind in ("parquet", "table"):
            c = duckdb.connect(db, read_only=True) if kind == "table" else duckdb.connect()
            c.execute(f"SET threads = {threads}")
            c.execute("SET TimeZone = 'UTC'")
            if kind == "parquet":
                c.execute(f"CREATE VIEW spans AS SELECT * FROM read_parquet('{parquet}')")
            cons[(kind, threads)] = c

    def plumb_once(sql, threads):
        out = subprocess.run([a.plumb_bench, "query", a.plumb_data, "--now", NOW, "--runs", "1", "--warmup", "1",
                              "--threads", str(threads), sql], capture_output=True, text=True, check=True).stdout
        m = re.search(r"median_ms=([\d.]+) rows=(\d+)", out)
        if not m:
            sys.exit(f"plumb-bench: {out}")
        return float(m.group(1)), int(m.group(2))

    def duck_once(c, sql):
        duck_sql = sql.replace("now()", DUCK_NOW)
        c.execute(duck_sql).fetchall()                       # warm-up, as plumb-bench does
        t = time.perf_counter()
        rows = c.execute(duck_sql).fetchall()
        return (time.perf_counter() - t) * 1000, len(rows)

    samples = {}
    for _ in range(a.runs):
        for k, (_, sql) in enumerate(queries, 1):
            for threads in (1, 2):
                samples.setdefault((k, "plumb", threads), []).append(plumb_once(sql, threads))
                for kind in ("parquet", "table"):
                    samples.setdefault((k, kind, threads), []).append(duck_once(cons[(kind, threads)], sql))
    results = {key: (statistics.median(ms for ms, _ in v), v[0][1]) for key, v in samples.items()}
    plumb = {(k, t): results[(k, "plumb", t)] for k in range(1, len(queries) + 1) for t in (1, 2)}

    print(f"{'query':<58} {'plumb t1':>8} {'plumb t2':>8} {'pq t1':>8} {'pq t2':>8} {'tbl t1':>8} {'tbl t2':>8}  "
          f"plumb/pq  plumb/tbl  rows")
    for k, (name, _) in enumerate(queries, 1):
        p1, prow = plumb.get((k, 1), (float("nan"), -1))
        p2, _ = plumb.get((k, 2), (float("nan"), -1))
        r = {key: results[(k,) + key][0] for key in [("parquet", 1), ("parquet", 2), ("table", 1), ("table", 2)]}
        rows = {results[(k,) + key][1] for key in [("parquet", 1), ("table", 1)]}
        best = min(p1, p2)
        best_pq, best_tbl = min(r[("parquet", 1)], r[("parquet", 2)]), min(r[("table", 1)], r[("table", 2)])
        flag = "" if rows == {prow} else f"  ROW COUNT DIFFERS: plumb {prow}, duckdb {sorted(rows)}"
        print(f"{k}. {name:<55} {p1:8.1f} {p2:8.1f} {r[('parquet', 1)]:8.1f} {r[('parquet', 2)]:8.1f} {r[('table', 1)]:8.1f} "
              f"{r[('table', 2)]:8.1f}  {best / best_pq:8.2f} {best / best_tbl:10.2f}  {prow}{flag}")
    print(f"(milliseconds, medians of {a.runs} runs after a warm-up; t1/t2 = threads; ratios compare each side's best)")


if __name__ == "__main__":
    main()
