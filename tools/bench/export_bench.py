#!/usr/bin/env python3
"""Exporting, measured: `plumb serve` (release) in front of the release plumb-mock, with no
exporter, with OTLP/HTTP (protobuf, to tools/fleet/otlp_receiver.py --count-only) and with
ClickHouse (chdb behind tools/fleet/clickhouse_front.py), side by side, rounds interleaved.

  tools/bench/export_bench.py [--rate 1000] [--seconds 20] [--rounds 3] [--max-seconds 10]
  tools/bench/export_bench.py --size 10000000          # bytes per span: Plumb's segments vs ClickHouse

At a paced rate (wrk, tools/bench/lua/paced.lua): the serve process's CPU per call
(utime+stime / requests), the extra CPU of exporting as a share of one core, RSS at the end, and
the export lag sampled from /_plumb/metrics every 100 ms (plumb_export_lag_seconds: the newest
stored span's ts_start minus the newest acknowledged one's), p50 and p99. Unpaced (wrk -t1 -c32):
the proxy's rate with each exporter, and whether the exporter kept up (spans behind at the end of
the run, seconds to drain them, spans/s exported over run + drain). Medians over the rounds.
Prints figures; asserts nothing. The receivers share the machine's 2 cores with plumb and wrk:
their CPU is not counted in plumb's, but they compete for the cores at the unpaced rate.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fleet"))
import fleet_processes  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def spawn(args, ready, env=None):
    p = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, **(env or {})})
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(ready, line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, m.group(1)
    p.kill()
    raise RuntimeError(f"{args[0]} did not start")


def ticks(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def metric(url, name):
    with urllib.request.urlopen(url + "/_plumb/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
    return None


def wrk(url, seconds, rate=None):
    env = {**os.environ}
    if rate:
        env["RATE"] = str(rate)
        out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", ROOT / "tools/bench/lua/paced.lua", url],
                             capture_output=True, text=True, env=env).stdout
        m = re.search(r"paced: requests=(\d+) non200=(\d+) p50_us=(\d+) p90_us=(\d+) p99_us=(\d+)", out)
        return {"requests": int(m.group(1)), "p50_us": int(m.group(3)), "p99_us": int(m.group(5))}
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", "-s", ROOT / "tools/bench/lua/request.lua", url],
                         capture_output=True, text=True).stdout
    m = re.search(r"(\d+) requests in", out)
    return {"requests": int(m.group(1))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plumb", default=ROOT / ".build/release/plumb")
    ap.add_argument("--mock", default=ROOT / ".build/release/plumb-mock")
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--max-seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", type=int, default=0, help="bytes per span for this many generated spans, then exit")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="plumb-export-bench-"))
    procs = []
    try:
        if a.size:
            return sizes(a, work, procs)
        mock, mock_url = spawn([a.mock, "--listen", "127.0.0.1:0"], r"listening on (http://\S+)")
        procs.append(mock)
        rx, rx_addr = spawn([sys.executable, ROOT / "tools/fleet/otlp_receiver.py", "--port", "0", "--count-only"],
                            r"listening on (\S+)")
        procs.append(rx)
        ch, ch_url = fleet_processes.start_clickhouse(work / "chdb")
        procs.append(ch)
        providers = f'[providers.openai]\nbase_url = "{mock_url}"\n'
        configs = {
            "none": "",
            "otlp": f'[export.otlp]\nendpoint = "http://{rx_addr}"\n',
            "clickhouse": f'[export.clickhouse]\nurl = "{ch_url}"\nuser = "plumb"\n',
        }
        serves = {}
        for name, extra in configs.items():
            (work / f"{name}.toml").write_text(extra + providers)
            p, url = spawn([a.plumb, "serve", "--config", work / f"{name}.toml", "--data", work / f"data-{name}",
                            "--listen", "127.0.0.1:0"], r"listening on (http://\S+)",
                           env={"PLUMB_CLICKHOUSE_PASSWORD": "fleet-secret"})
            procs.append(p)
            serves[name] = (p, url)
        results = {n: [] for n in configs}
        for rnd in range(a.rounds):
            for name, (p, url) in serves.items():
                time.sleep(1)
                lags, stop = [], threading.Event()
                def sample():
                    while not stop.is_set():
                        v = metric(url, "plumb_export_lag_seconds")
                        if v is not None:
                            lags.append(v)
                        time.sleep(0.1)
                t = threading.Thread(target=sample, daemon=True)
                t0 = ticks(p.pid)
                t.start()
                w = wrk(url, a.seconds, a.rate)
                stop.set(); t.join()
                cpu = (ticks(p.pid) - t0) / HZ * 1e6 / max(1, w["requests"])
                r = {"cpu_us": cpu, "rss_mb": rss_mb(p.pid), "p50_us": w["p50_us"], "p99_us": w["p99_us"]}
                if lags:
                    lags.sort()
                    r["lag_p50"], r["lag_p99"] = lags[len(lags) // 2], lags[min(len(lags) - 1, int(len(lags) * 0.99))]
                # Unpaced: the proxy's max rate, and whether the exporter kept up.
                time.sleep(1)
                t0 = ticks(p.pid)
                w = wrk(url, a.max_seconds)
                r["max_rps"] = w["requests"] / a.max_seconds
                r["max_cpu_us"] = (ticks(p.pid) - t0) / HZ * 1e6 / max(1, w["requests"])
                if name != "none":
                    behind = metric(url, "plumb_export_lag_spans") or 0
                    start = time.time()
                    while (metric(url, "plumb_export_lag_spans") or 0) > 0 and time.time() - start < 120:
                        time.sleep(0.1)
                    drain = time.time() - start
                    r["behind_at_end"], r["drain_s"] = behind, drain
                    r["export_sps"] = w["requests"] / (a.max_seconds + drain)
                r["rss_after_max_mb"] = rss_mb(p.pid)
                results[name].append(r)
                print(f"round {rnd + 1} {name}: " + " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True)
        print(f"== medians over {a.rounds} rounds (paced {a.rate} req/s for {a.seconds} s; unpaced wrk -t1 -c32 for {a.max_seconds} s)")
        base = statistics.median(r["cpu_us"] for r in results["none"])
        for name, rs in results.items():
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            extra = (med["cpu_us"] - base) * a.rate / 1e6
            line = (f"{name:>10}: cpu/call {med['cpu_us']:.1f} us (+{med['cpu_us'] - base:.1f} us = {extra * 100:.1f}% of a core at {a.rate} req/s), "
                    f"p50 {med['p50_us']} us p99 {med['p99_us']} us, rss {med['rss_mb']:.0f} MB; max {med['max_rps']:.0f} req/s "
                    f"({med['max_cpu_us']:.1f} us/call), rss after {med['rss_after_max_mb']:.0f} MB")
            if "lag_p50" in med:
                line += f"; lag p50 {med['lag_p50']:.2f} s p99 {med['lag_p99']:.2f} s"
            if "drain_s" in med:
                line += f"; at max rate {med['behind_at_end']:.0f} spans behind at the end, drained in {med['drain_s']:.1f} s ({med['export_sps']:.0f} spans/s exported)"
            print(line)
    finally:
        for p in procs:
            fleet_processes.stop(p)


def sizes(a, work, procs):
    """Bytes per span: the same generated spans in Plumb's compacted segments and in ClickHouse
    (schemas/clickhouse.sql, parts merged), bodies apart."""
    src = work / "spans.jsonl"
    t = time.time()
    subprocess.run([sys.executable, ROOT / "tools/gen_spans.py", "--count", str(a.size), "--seed", "5", "--out", src,
                    "--bodies", "0"], check=True)
    print(f"generated {a.size} spans in {time.time() - t:.0f} s", flush=True)
    data = work / "data"
    t = time.time()
    subprocess.run([a.plumb, "import", "--data", data, src], check=True, capture_output=True)
    print(f"plumb import: {time.time() - t:.0f} s", flush=True)
    src.unlink()
    ch, url = fleet_processes.start_clickhouse(work / "chdb")
    procs.append(ch)
    (work / "plumb.toml").write_text(f'[export.clickhouse]\nurl = "{url}"\nuser = "plumb"\nttl = "3650d"\n')
    t = time.time()
    r = subprocess.run([a.plumb, "export", "--config", work / "plumb.toml", "--data", data, "--since", "2000-01-01",
                        "--to", "clickhouse"], capture_output=True, text=True, env={**os.environ, "PLUMB_CLICKHOUSE_PASSWORD": "fleet-secret"})
    print(f"plumb export to ClickHouse: {time.time() - t:.0f} s: {r.stdout.strip()} {r.stderr.strip()[-300:]}", flush=True)
    def ch_query(sql):
        req = urllib.request.Request(url + "/", data=sql.encode(), method="POST",
                                     headers={"X-ClickHouse-User": "plumb", "X-ClickHouse-Key": "fleet-secret"})
        with urllib.request.urlopen(req, timeout=3600) as resp:
            return resp.read().decode().strip()
    ch_query("OPTIMIZE TABLE plumb.spans FINAL")
    ch_bytes = int(ch_query("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'plumb' AND table = 'spans' AND active"))
    rows = int(ch_query("SELECT count() FROM plumb.spans FINAL"))
    seg = sum(f.stat().st_size for f in (data / "segments").iterdir())
    print(f"== {rows} spans: Plumb segments {seg / rows:.1f} bytes/span ({seg / 1e6:.0f} MB); "
          f"ClickHouse {ch_bytes / rows:.1f} bytes/span ({ch_bytes / 1e6:.0f} MB, parts merged); ratio {ch_bytes / seg:.2f}")


if __name__ == "__main__":
    main()
