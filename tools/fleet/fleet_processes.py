"""Starting the fleet test servers as processes, for the pytest suites and tools/bench."""
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def start_clickhouse(path, user="plumb", password="fleet-secret", timeout=60):
    """(process, url) of tools/fleet/clickhouse_front.py (chdb) on a free port, data in `path`."""
    proc = subprocess.Popen([sys.executable, HERE / "clickhouse_front.py", "--port", "0", "--path", path,
                             "--user", user, "--password", password],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"listening on (\S+):(\d+)", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"clickhouse_front did not start: {line} {proc.stderr.read()}")
    return proc, f"http://127.0.0.1:{m.group(2)}"


def stop(proc, timeout=30):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
