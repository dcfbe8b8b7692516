"""The whole fleet on this machine (`make dev`, tools/fleet.py): time to ready, peak memory.

Each run starts `python -m tools.fleet` as `make dev` does, on fresh local state (every
database created and migrated) or on the state the previous run left (a restart), and
times it from spawn to its ready line. Memory is the sum of the peak resident sets
(VmHWM) of every process of the fleet (Python, the Node driver, workerd), read after a
keyed gateway request and an ingestion cron: a sum of peaks, so never under the real peak.
"""

from __future__ import annotations

import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from stacks import PROJECT_ROOT

READY = re.compile(r"ready at (http://127\.0\.0\.1:\d+)")
READY_TARGET_S = 5.0
MEMORY_TARGET_MIB = 1024.0
MAX_RUNS = 3  # each run is a whole fleet start; three give a median


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def tree_peak_mib(root: int) -> float:
    """The sum of VmHWM over `root` and its descendants."""
    tree, pending, total_kib = _children(), [root], 0
    while pending:
        pid = pending.pop()
        pending.extend(tree.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        total_kib += int(found.group(1)) if found else 0
    return total_kib / 1024


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_run(home: Path, fresh: bool) -> tuple[float, float, int]:
    """(seconds to ready, peak MiB, Workers) of one fleet start."""
    argv = [sys.executable, "-m", "tools.fleet", "--port", str(_free_port()), "--state", str(home / "state"), "--secrets", str(home / "secrets.json")]
    start = time.perf_counter()
    process = subprocess.Popen(argv + (["--fresh"] if fresh else []), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            ready = READY.search(line)
            if ready:
                break
        else:
            raise SystemExit("the fleet stopped before it was ready:\n" + "".join(lines))
        elapsed = time.perf_counter() - start
        url = ready.group(1)
        key = re.search(r"local API key: (\S+)", "".join(lines))
        headers = {"Host": "api-staging.blazesportsintel.com", "x-api-key": key.group(1) if key else ""}
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/v1/mlb/scores", headers=headers), timeout=30).read()
        cron = urllib.request.Request(f"{url}/cdn-cgi/handler/scheduled?cron=*/2+*+*+*+*", headers={"MF-Route-Override": "blaze-mlb-ingest-live"})
        urllib.request.urlopen(cron, timeout=60).read()
        peak = tree_peak_mib(process.pid)
        workers = int(re.search(r"(\d+) Workers ready", lines[-1]).group(1))  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    return elapsed, peak, workers


def measure_fleet(runs: int) -> list[str]:
    """The Markdown section for BENCHMARKS.md (tools/bench.py)."""
    runs = max(1, min(runs, MAX_RUNS))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        one_run(home, fresh=True)  # untimed: bytecode, bundles, the page cache
        fresh = [one_run(home, fresh=True) for _ in range(runs)]
        warm = [one_run(home, fresh=False) for _ in range(runs)]
    workers = fresh[0][2]
    rows = []
    for label, samples in (("fresh state (databases created and migrated)", fresh), ("restart on the last run's state", warm)):
        seconds = statistics.median(s[0] for s in samples)
        peak = statistics.median(s[1] for s in samples)
        rows.append((label, seconds, peak))
    ready_verdict = "meets" if all(r[1] < READY_TARGET_S for r in rows) else "misses"
    memory_verdict = "meets" if all(r[2] < MEMORY_TARGET_MIB for r in rows) else "misses"
    return [
        f"## The whole fleet locally (`make dev`, {workers} Workers in one Miniflare)",
        "",
        f"Median of {runs} starts of `python -m tools.fleet` each, spawn to ready line; memory is the",
        "sum of every fleet process's peak resident set after one gateway request and one ingestion cron.",
        "",
        "| start | time to ready | peak memory (sum of processes) |",
        "|---|---|---|",
        *[f"| {label} | {seconds:.2f} s | {peak:.0f} MiB |" for label, seconds, peak in rows],
        "",
        f"Targets: ready under {READY_TARGET_S:.0f} s ({ready_verdict}), under {MEMORY_TARGET_MIB:.0f} MiB ({memory_verdict}) on this run.",
        "",
    ]


if __name__ == "__main__":
    print("\n".join(measure_fleet(3)))
