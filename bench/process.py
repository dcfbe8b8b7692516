"""One whole process measured as a user pays for it: its wall time and its own peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mib: float


def run_process(argv: list[str], cwd: Path) -> Sample:
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{process.stderr.read().decode() if process.stderr else ''}")
    return Sample(elapsed, usage.ru_maxrss / 1024)  # Linux reports KiB


def median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.seconds for s in samples), statistics.median(s.peak_mib for s in samples))
