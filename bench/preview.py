"""The real engine's preview and up in `make bench` (section `preview`).

- `make preview STACK=staging` and `STACK=prod` (`python -m engine.preview`) beside `make plan`,
  for today's fleet and for ten times the fleet (the catalog multiplied in a temporary copy,
  bench/engine.py): wall time and the cost per step; where the time goes, as the CPU seconds
  of each kind of process (the program's Python with the Automation API's language server,
  the CLI, the Cloudflare provider's Check, the pack, the dynamic provider); the peak of each
  kind and of the whole process tree, sampled from /proc every 100 ms.
- `pulumi up` of staging against the loopback account (local/cloudflare_api): wall time and
  the requests it sent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.deployment import fleet_account
from engine.workspace import Workspace
from local.project import copy_project
from stacks import PROJECT_ROOT
from bench.engine import project_copy, ten_times

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class TreeSample:
    seconds: float = 0.0
    tree_peak_mib: float = 0.0
    peaks_mib: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # by kind, the last reading of each process


def _children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = Path(f"/proc/{current}/task").iterdir()
            kids = [int(k) for t in tasks for k in (t / "children").read_text().split()]
        except OSError:
            continue
        found += kids
        todo += kids
    return found


TICKS = os.sysconf("SC_CLK_TCK")


def _read(pid: int) -> tuple[str, float, float]:
    """A process's command line, resident MiB and CPU seconds so far (user + system)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "", 0.0, 0.0
    words = [w.decode(errors="replace") for w in command if w]
    return " ".join(words[:4]), int(fields[21]) * PAGE / 2**20, (int(fields[11]) + int(fields[12])) / TICKS


def _kind(command: str) -> str:
    if "pulumi.dynamic" in command:
        return "dynamic provider"
    if "policies" in command and "python" in command:
        return "policy pack"
    if "pulumi-resource-cloudflare" in command:
        return "Cloudflare provider"
    if command.split(" ", 1)[0].endswith("/pulumi"):
        return "CLI (engine)"
    if "python" in command:
        return "program (Python)"
    return "other"


def run_sampled(argv: list[str], cwd: Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> TreeSample:
    """Run `argv`, sampling the RSS of it and every descendant until it exits with one of `ok`."""
    sample = TreeSample()
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stop = threading.Event()

    cpu: dict[int, tuple[str, float]] = {}

    def sampler() -> None:
        while not stop.is_set():
            total = 0.0
            for pid in [process.pid, *_children(process.pid)]:
                command, mib, seconds = _read(pid)
                if not command:
                    continue
                total += mib
                kind = _kind(command)
                sample.peaks_mib[kind] = max(sample.peaks_mib.get(kind, 0.0), mib)
                cpu[pid] = (kind, seconds)
            sample.tree_peak_mib = max(sample.tree_peak_mib, total)
            stop.wait(0.1)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    _, errors = process.communicate()
    sample.seconds = time.perf_counter() - start
    stop.set()
    thread.join()
    for kind, seconds in cpu.values():
        sample.cpu_seconds[kind] = sample.cpu_seconds.get(kind, 0.0) + seconds
    if process.returncode not in ok:
        raise SystemExit(f"benchmark command failed ({process.returncode}): {' '.join(argv)}\n{errors.decode()[-3000:]}")
    return sample


def _steps(document: Path) -> int:
    return len(json.loads(document.read_text())["steps"])


def _by_kind(values: dict[str, float], unit: str, digits: int) -> str:
    return ", ".join(f"{k} {v:.{digits}f}{unit}" for k, v in sorted(values.items(), key=lambda kv: -kv[1]) if k != "other" and v > 0)


def _row(label: str, s: TreeSample, steps: int | None = None) -> str:
    per = f"{s.seconds / steps * 1000:.0f} ms" if steps else "-"
    return (f"| {label} | {steps or '-'} | {s.seconds:.1f} s | {per} | {s.tree_peak_mib:.0f} MiB | "
            f"{_by_kind(s.peaks_mib, '', 0)} | {_by_kind(s.cpu_seconds, ' s', 1)} |")


def measure_preview(runs: int) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = project_copy(Path(tmp))
        python = str(PROJECT_ROOT / ".venv" / "bin" / "python")
        for scale in (1, 10):
            if scale == 10:
                ten_times(root)
                shutil.rmtree(root / "build" / "plan", ignore_errors=True)  # prod's gate compares with this fleet's staging
            out = Path(tmp) / "preview"
            plan = run_sampled([python, "-m", "local.plan", "staging", "--out", str(Path(tmp) / f"plan-{scale}.json")], root)
            rows.append(_row(f"{scale}x `make plan STACK=staging`", plan))
            for stack in ("staging", "prod"):
                if scale == 1:
                    run_sampled([python, "-m", "engine.preview", stack, "--out", str(out)], root)  # untimed: backend, plugin install
                # Ten times the fleet is over the account's limits, which prod's pack enforces:
                # the preview runs every step, then exits 3 for that one violation.
                sample = run_sampled([python, "-m", "engine.preview", stack, "--out", str(out)], root, ok=(3,) if (scale, stack) == (10, "prod") else (0,))
                rows.append(_row(f"{scale}x `make preview STACK={stack}`", sample, _steps(out / f"{stack}.json")))
    return [
        "## The real engine's preview (`make preview`)",
        "",
        "One run each, after an untimed one per stack (the backend made, the plugin installed), on",
        "a file backend, the pack on, checkpoints skipped as `make preview` and the workflows'",
        "previews skip them (README, \"The real engine\"); peaks sampled from /proc every 100 ms",
        "(the tree: every process at once; then each kind's largest process, MiB). Ten times the",
        "fleet is the catalog multiplied in a temporary copy (bench/engine.py's ten_times).",
        f"Load average (1 minute) when it ended: {os.getloadavg()[0]:.1f}.",
        "",
        "| run | steps | wall time | per step | tree peak | largest process by kind (MiB) | CPU time by kind |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def measure_up(runs: int) -> list[str]:
    
    with tempfile.TemporaryDirectory() as tmp:
        api = fleet_account()
        try:
            project = copy_project(Path(tmp) / "project")
            environ = {"CLOUDFLARE_API_TOKEN": api.token, "CLOUDFLARE_BASE_URL": api.base_url, "CLOUDFLARE_API_BASE_URL": api.base_url}
            workspace = Workspace(Path(tmp) / "engine", root=project.root, environ=environ)
            workspace.prepare("staging")
            start = time.perf_counter()
            workspace.run("up", "staging", "--yes", "--skip-preview", capture=True)
            up = time.perf_counter() - start
            requests = len(api.requests)
            start = time.perf_counter()
            workspace.run("preview", "staging", "--expect-no-changes", capture=True)
            again = time.perf_counter() - start
        finally:
            api.close()
    return [
        "## `pulumi up` of staging against the loopback account",
        "",
        "The real CLI, provider and migration step against local/cloudflare_api; one run.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| up of a new stack: wall time | {up:.1f} s |",
        f"| requests the up sent | {requests} |",
        f"| the no-op preview after it | {again:.1f} s |",
        "",
    ]


def measure(runs: int) -> list[str]:
    return measure_preview(runs) + measure_up(runs)


if __name__ == "__main__":
    print("\n".join(measure(1)))
    sys.exit(0)
