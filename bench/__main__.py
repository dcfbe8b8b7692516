"""Measure the offline plan, the bundling, the Workers, the whole fleet in workerd, the real
engine's preview and up against a loopback account, and the
adoption of a live account; write BENCHMARKS.md.

`python -m bench [--runs N] [--section NAME ...]` (or `make bench [SECTIONS="fleet
bundling"]`). Timings are medians of N runs of whole processes, so Python start-up and
imports count, as they do for a user. Peak memory is each process's own maximum resident
set (from wait4), not a sum. With --section only those sections are measured again and
replace theirs in the existing file, each marked with its date; the rest stay as they were
(a full run also rebuilds the engine, and drops its cold build unless --cold-engine).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from bench.adopt import measure_adopt
from bench.engine import measure_engine
from bench.fleet import measure_fleet
from bench.preview import measure as measure_preview
from bench.process import median, run_process
from bench.workers import measure_workers
from stacks import PROJECT_ROOT

PLAN_TARGET_RATIO = 1.5
WARM_BUNDLE_TARGET_S = 0.1


def measure_plan(runs: int) -> list[str]:
    python = sys.executable
    floor_argv = [python, "-W", "ignore", "-c", "import pulumi, pulumi_cloudflare"]
    with tempfile.TemporaryDirectory() as tmp:
        plan_argv = [python, "-m", "local.plan", "staging", "--out", str(Path(tmp) / "plan.json")]
        # One untimed run of each first: it compiles bytecode and builds the bundles.
        run_process(floor_argv, PROJECT_ROOT)
        run_process(plan_argv, PROJECT_ROOT)
        floor, plan = [], []
        for _ in range(runs):  # interleaved, so drift in machine load hits both alike
            floor.append(run_process(floor_argv, PROJECT_ROOT))
            plan.append(run_process(plan_argv, PROJECT_ROOT))
    f, p = median(floor), median(plan)
    ratio = p.seconds / f.seconds
    verdict = "meets" if ratio <= PLAN_TARGET_RATIO else "misses"
    return [
        "## Offline plan (`make plan STACK=staging`)",
        "",
        f"Median of {runs} interleaved runs of each whole process.",
        "",
        "| process | wall time | peak memory |",
        "|---|---|---|",
        f"| floor: `python -c 'import pulumi, pulumi_cloudflare'` | {f.seconds:.2f} s | {f.peak_mib:.0f} MiB |",
        f"| plan: `python -m local.plan staging` | {p.seconds:.2f} s | {p.peak_mib:.0f} MiB |",
        f"| ratio plan / floor | {ratio:.2f}x | {p.peak_mib / f.peak_mib:.2f}x |",
        "",
        f"Target: plan within {PLAN_TARGET_RATIO}x the floor's wall time; this run {verdict} it.",
        "",
    ]


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure_bundling(runs: int) -> list[str]:
    from stacks.catalog import load_catalog
    from workers.bundle import build_bundles, clean

    entries = {family: spec.entry for family, spec in load_catalog(PROJECT_ROOT).families.items()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(PROJECT_ROOT / "workers" / "src", root / "workers" / "src")
        shutil.copy2(PROJECT_ROOT / "package.json", root / "package.json")
        (root / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
        cold, warm = [], []
        for _ in range(runs):
            clean(root)
            cold.append(_timed(lambda: build_bundles(root, entries)))
            warm.append(_timed(lambda: build_bundles(root, entries)))
        sizes = sum((root / "build" / "workers" / f"{family}.js").stat().st_size for family in entries)
    warm_median = statistics.median(warm)
    verdict = "meets" if warm_median < WARM_BUNDLE_TARGET_S else "misses"
    return [
        "## Bundling the Workers' entry points (`workers/bundle.py`)",
        "",
        f"{len(entries)} entry points, one esbuild call, {sizes / 1024:.1f} KiB of bundles; median of {runs} runs in-process.",
        "",
        "| build | time |",
        "|---|---|",
        f"| cold (no build/, esbuild runs) | {statistics.median(cold) * 1000:.1f} ms |",
        f"| warm (inputs unchanged, esbuild skipped) | {warm_median * 1000:.2f} ms |",
        "",
        f"Target: warm under {WARM_BUNDLE_TARGET_S * 1000:.0f} ms; this run {verdict} it.",
        "",
    ]


SECTIONS: dict[str, Callable[[int], list[str]]] = {
    "plan": measure_plan,
    "bundling": measure_bundling,
    "workers": measure_workers,
    "fleet": measure_fleet,
    "adopt": measure_adopt,
    "preview": measure_preview,
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _blocks(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """The lines before the first `## ` heading, and each `## ` section with its lines."""
    head: list[str] = []
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith("## "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            head.append(line)
    return head, blocks


def _key(block: list[str]) -> str:
    """A section's heading without its parenthesis, which can hold numbers (72 Workers)."""
    return block[0].split(" (", 1)[0]


def splice(existing: list[str], measured: list[str], note: str) -> list[str]:
    """`existing` with each section of `measured` in place of the one of the same heading."""
    head, old = _blocks(existing)
    new = {_key(block): block for block in _blocks(measured)[1]}
    for block in new.values():
        while block and block[-1] == "":
            block.pop()
        block += ["", note, ""]
    merged = [new.pop(_key(block), block) for block in old]
    if new and merged and merged[-1][-1:] != [""]:
        merged[-1] = [*merged[-1], ""]  # a section new to the file starts after a blank line
    return head + [line for block in merged + list(new.values()) for line in block]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "BENCHMARKS.md")
    parser.add_argument("--cold-engine", action="store_true", help="also build the engine with every cache empty (minutes)")
    parser.add_argument("--section", action="append", choices=[*SECTIONS, "engine"], help="measure only this section again (repeatable)")
    args = parser.parse_args(argv)

    def measure(name: str) -> list[str]:
        return measure_engine(args.runs, args.cold_engine) if name == "engine" else SECTIONS[name](args.runs)

    if args.section:
        measured = [line for name in args.section for line in measure(name)]
        note = f"_Measured again on its own on {time.strftime('%Y-%m-%d')} (`make bench SECTIONS=\"{' '.join(args.section)}\"`)._"
        lines = splice(args.out.read_text().splitlines(), measured, note)
        args.out.write_text("\n".join(lines) + "\n")
        print("\n".join(measured))
        return 0
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/); numbers are from the machine that ran it:",
        f"{machine()}, on {time.strftime('%Y-%m-%d')}.",
        "",
    ]
    for name in SECTIONS:
        lines += measure(name)
    lines += measure("engine")
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
