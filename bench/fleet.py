"""The whole fleet on this machine (`make dev`, local/fleet.py): time to ready, peak memory.

Each run starts `python -m local.fleet` as `make dev` does, on fresh local state (every
database created and migrated) or on the state the previous run left (a restart), and
times it from spawn to its ready line. Beside it, the CPU time the fleet's processes
(Python, the cron reader, the Node driver, workerd) had used by then, which other work on
a shared machine moves much less than the wall time, and the 1-minute load average at
each spawn. Memory is the sum of the peak resident sets (VmHWM) of every process of the
fleet, read after a keyed gateway request and an ingestion cron: a sum of peaks, so never
under the real peak.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from stacks import PROJECT_ROOT

READY = re.compile(r"ready at (http://127\.0\.0\.1:\d+)")
PHASES = re.compile(r"start: ([\d.]+) s in Python .*?, ([\d.]+) s for Miniflare .*?, ([\d.]+) s to migrate")
READY_TARGET_S = 5.0
MEMORY_TARGET_MIB = 1024.0
MAX_RUNS = 5  # each run is a whole fleet start (seconds); a shared machine needs a few for a median


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _tree(root: int) -> Iterator[int]:
    """`root` and its descendants."""
    tree, pending = _children(), [root]
    while pending:
        pid = pending.pop()
        pending.extend(tree.get(pid, []))
        yield pid


def tree_peak_mib(root: int) -> float:
    """The sum of VmHWM over `root` and its descendants."""
    total_kib = 0
    for pid in _tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        total_kib += int(found.group(1)) if found else 0
    return total_kib / 1024


def tree_cpu_seconds(root: int) -> float:
    """User and system time of `root` and its descendants, the ones they reaped included."""
    ticks = 0
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class FleetStart:
    """One fleet start."""

    seconds: float  # spawn to ready line
    cpu_seconds: float  # used by the fleet's processes by then
    peak_mib: float
    load: float  # 1-minute load average at the spawn
    workers: int
    # What the fleet printed of its start: in Python (catalog, stack, bundles), Miniflare's
    # config and workerd's start, the migrations; the rest of `seconds` is Python's own
    # start and imports, clearing a fresh start's state, and the API key before the ready line.
    python: float
    runtime: float
    migrations: float

    @property
    def rest(self) -> float:
        return self.seconds - self.python - self.runtime - self.migrations


def one_run(home: Path, fresh: bool) -> FleetStart:
    argv = [sys.executable, "-m", "local.fleet", "--port", str(_free_port()), "--state", str(home / "state"), "--secrets", str(home / "secrets.json")]
    load = os.getloadavg()[0]
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
        cpu = tree_cpu_seconds(process.pid)
        url = ready.group(1)
        key = re.search(r"local API key: (\S+)", "".join(lines))
        headers = {"Host": "api-staging.blazesportsintel.com", "x-api-key": key.group(1) if key else ""}
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/v1/mlb/scores", headers=headers), timeout=30).read()
        cron = urllib.request.Request(f"{url}/cdn-cgi/handler/scheduled?cron=*/2+*+*+*+*", headers={"MF-Route-Override": "blaze-mlb-ingest-live"})
        urllib.request.urlopen(cron, timeout=60).read()
        peak = tree_peak_mib(process.pid)
        workers = int(re.search(r"(\d+) Workers ready", lines[-1]).group(1))  # type: ignore[union-attr]
        phases = PHASES.search("".join(lines))
        if not phases:
            raise SystemExit("the fleet printed no start line:\n" + "".join(lines))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    python, runtime, migrations = (float(value) for value in phases.groups())
    return FleetStart(elapsed, cpu, peak, load, workers, python, runtime, migrations)


def measure_fleet(runs: int) -> list[str]:
    """The Markdown section for BENCHMARKS.md (bench/__main__.py)."""
    runs = max(1, min(runs, MAX_RUNS))
    fresh: list[FleetStart] = []
    warm: list[FleetStart] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        one_run(home, fresh=True)  # untimed: bytecode, bundles, the page cache
        for _ in range(runs):  # interleaved, so drift in machine load hits both alike
            fresh.append(one_run(home, fresh=True))
            warm.append(one_run(home, fresh=False))
    rows, phases = [], []
    for label, samples in (("fresh state (databases created and migrated)", fresh), ("restart on the last run's state", warm)):
        seconds = sorted(s.seconds for s in samples)
        rows.append((label, statistics.median(seconds), seconds[0], seconds[-1], statistics.median(s.cpu_seconds for s in samples), statistics.median(s.peak_mib for s in samples)))
        medians = (statistics.median(getattr(s, phase) for s in samples) for phase in ("rest", "python", "runtime", "migrations"))
        phases.append(f"| {label.split(' ')[0]} | " + " | ".join(f"{value:.2f} s" for value in medians) + " |")
    loads = sorted(s.load for s in fresh + warm)
    ready_verdict = "meets" if all(r[1] < READY_TARGET_S for r in rows) else "misses"
    memory_verdict = "meets" if all(r[5] < MEMORY_TARGET_MIB for r in rows) else "misses"
    return [
        f"## The whole fleet locally (`make dev`, {fresh[0].workers} Workers in one Miniflare)",
        "",
        f"Median of {runs} starts of `python -m local.fleet` each (fresh and restart interleaved), spawn",
        "to ready line, with the fastest and slowest; CPU time is what the fleet's processes had used",
        "at the ready line; memory is the sum of every fleet process's peak resident set after one",
        "gateway request and one ingestion cron.",
        "",
        "| start | time to ready (min-max) | CPU time to ready | peak memory (sum of processes) |",
        "|---|---|---|---|",
        *[f"| {label} | {median:.2f} s ({low:.2f}-{high:.2f}) | {cpu:.2f} s | {peak:.0f} MiB |" for label, median, low, high, cpu, peak in rows],
        "",
        "Where the time went (medians; the fleet prints its own part at start):",
        "",
        "| start | Python start-up and imports, state cleared, API key | catalog, stack, bundles | Miniflare's config and workerd's start | migrations |",
        "|---|---|---|---|---|",
        *phases,
        "",
        f"1-minute load average at the starts: {loads[0]:.1f}-{loads[-1]:.1f} on {os.cpu_count()} CPUs.",
        f"Targets: ready under {READY_TARGET_S:.0f} s ({ready_verdict}), under {MEMORY_TARGET_MIB:.0f} MiB ({memory_verdict}) on this run.",
        "",
    ]


if __name__ == "__main__":
    print("\n".join(measure_fleet(MAX_RUNS)))
