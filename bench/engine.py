"""The real engine's part of `make bench`: its build, the provider plugin's start, and the
provider check beside the plan.

- Build: `python -m engine.build` with every binary cached (what each `make test` pays),
  with Go's caches warm but the binaries' cache empty (a changed pin), and, with
  `--cold-engine`, with every cache empty (a new machine: module downloads included).
- The provider plugin (engine/provider) as the engine starts it: the time to the port it
  prints, its first GetSchema (which generates the schema) and a second one, and its peak
  memory before and after, asked over gRPC with the Python SDK's own provider stubs.
- The provider check of a plan (engine/provider_schema.py through schemacheck) beside the
  offline plan itself, for the fleet as it is and for ten times the fleet: a generated
  catalog in a temporary copy, each Worker, database and namespace nine more times (the
  copies bind the copies, and carry no crons, routes or domains, which the account's and
  the zone's limits would refuse).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import yaml
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from bench.process import median, run_process
from engine import build
from stacks import PROJECT_ROOT

COPIES = 9
CHECK = (
    "import json, sys; from pathlib import Path; from engine import provider_schema as p; "
    "s = Path(sys.argv[1]); plan = json.loads(Path(sys.argv[2]).read_text()); "
    "found = p.check(plan['resources'], p.load_schemas(s), s, Path(sys.argv[3])); "
    "sys.exit(1 if found else 0)"
)


def _timed_build(environ: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "engine.build"], cwd=PROJECT_ROOT, env=environ, check=True, capture_output=True)
    return time.perf_counter() - start


def measure_build(cold: bool) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            environ = dict(os.environ, GOMODCACHE=f"{tmp}/mod", GOCACHE=f"{tmp}/cache", BLAZE_ENGINE_CACHE=f"{tmp}/engine", GOFLAGS="-modcacherw")
            rows.append(("cold: empty Go module and build caches, no binaries (a new machine)", _timed_build(environ)))
        # Untimed first: makes Go's own caches warm, whatever this machine built before.
        _timed_build(dict(os.environ, BLAZE_ENGINE_CACHE=f"{tmp}/warm-up"))
        environ = dict(os.environ, BLAZE_ENGINE_CACHE=f"{tmp}/warm-go")
        rows.append(("Go caches warm, no binaries (a changed pin, or a new cache folder)", _timed_build(environ)))
        rows.append(("everything cached (every `make test` after the first)", _timed_build(environ)))
    lines = [
        "## The real engine's build (`python -m engine.build`)",
        "",
        "Every binary of engine/: " + ", ".join(f"{b.name} (engine/{b.module})" for b in build.BINARIES) + ".",
        "",
        "| caches | wall time |",
        "|---|---|",
    ]
    lines += [f"| {what} | {seconds:.1f} s |" for what, seconds in rows]
    if not cold:
        lines += ["", "Cold build: run `python -m bench --cold-engine` (downloads every module again)."]
    return lines + [""]


def _peak_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def _plugin_start(plugin: Path) -> tuple[float, float, float, float, float]:
    """Seconds to the port, to the first and to a second GetSchema; peak MiB at the port and after."""
    start = time.perf_counter()
    process = subprocess.Popen([str(plugin)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        ready, peak_ready = time.perf_counter() - start, _peak_mib(process.pid)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            provider = provider_pb2_grpc.ResourceProviderStub(channel)
            calls = []
            for _ in range(2):
                asked = time.perf_counter()
                provider.GetSchema(provider_pb2.GetSchemaRequest())
                calls.append(time.perf_counter() - asked)
        return ready, calls[0], calls[1], peak_ready, _peak_mib(process.pid)
    finally:
        process.terminate()
        process.wait()


def measure_plugin(runs: int) -> list[str]:
    plugin = build.ensure_all()["pulumi-resource-cloudflare"]
    samples = [_plugin_start(plugin) for _ in range(runs)]
    ready, first, again, peak_ready, peak_after = (statistics.median(column) for column in zip(*samples))
    return [
        "## The Cloudflare provider plugin's start (engine/provider)",
        "",
        f"Median of {runs} starts of `pulumi-resource-cloudflare` ({plugin.stat().st_size / 2**20:.0f} MiB binary), as the",
        "engine starts it. The schema is generated on the first GetSchema, which only the CLI's",
        "`package get-schema`, code generators and the YAML host ask for; a preview or up of the",
        "Python program never does.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| start to the port on stdout | {ready * 1000:.0f} ms |",
        f"| first GetSchema (generates the schema) | {first * 1000:.0f} ms |",
        f"| a second GetSchema | {again * 1000:.1f} ms |",
        f"| peak memory at the port / after GetSchema | {peak_ready:.0f} MiB / {peak_after:.0f} MiB |",
        "",
    ]


def _suffixed(names: dict[str, str], suffix: str, known: set[str]) -> dict[str, str]:
    return {binding: f"{target}{suffix}" if target in known else target for binding, target in names.items()}


def ten_times(root: Path) -> None:
    """Rewrite the catalog in `root` to hold each Worker, database and namespace ten times."""
    catalog = root / "stacks" / "catalog"
    workers = yaml.safe_load((catalog / "workers.yaml").read_text())
    databases = yaml.safe_load((catalog / "databases.yaml").read_text())
    namespaces = yaml.safe_load((catalog / "kv.yaml").read_text())
    db_names = {d["name"] for d in databases["databases"]}
    kv_names = {n["name"] for n in namespaces["namespaces"]}
    worker_names = {w["name"] for w in workers["workers"]}
    for i in range(1, COPIES + 1):
        suffix = f"-x{i}"
        databases["databases"] += [dict(d, name=d["name"] + suffix) for d in databases["databases"] if d["name"] in db_names]
        namespaces["namespaces"] += [dict(n, name=n["name"] + suffix) for n in namespaces["namespaces"] if n["name"] in kv_names]
        for worker in [w for w in workers["workers"] if w["name"] in worker_names]:
            copy = {k: v for k, v in worker.items() if k not in ("crons", "routes", "domains")}
            copy["name"] = worker["name"] + suffix
            copy["d1"] = _suffixed(worker.get("d1", {}), suffix, db_names)
            copy["kv"] = _suffixed(worker.get("kv", {}), suffix, kv_names)
            copy["services"] = _suffixed(worker.get("services", {}), suffix, worker_names)
            workers["workers"].append(copy)
    (catalog / "workers.yaml").write_text(yaml.safe_dump(workers, sort_keys=False))
    (catalog / "databases.yaml").write_text(yaml.safe_dump(databases, sort_keys=False))
    (catalog / "kv.yaml").write_text(yaml.safe_dump(namespaces, sort_keys=False))


def project_copy(tmp: Path) -> Path:
    """The whole project in `tmp/project`, sharing this checkout's .venv and node_modules."""
    root = tmp / "project"
    shutil.copytree(
        PROJECT_ROOT, root,
        ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "__pycache__", ".pytest_cache"),
    )
    for link in (".venv", "node_modules"):
        (root / link).symlink_to(PROJECT_ROOT / link)
    return root


def measure_check(runs: int) -> list[str]:
    schemacheck = build.ensure_all()["schemacheck"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = project_copy(Path(tmp))
        for label, scale in (("today's fleet", 1), ("ten times the fleet", 10)):
            if scale == 10:
                ten_times(root)
            plan_file = Path(tmp) / f"plan-{scale}.json"
            plan_argv = [sys.executable, "-m", "local.plan", "staging", "--out", str(plan_file)]
            check_argv = [sys.executable, "-c", CHECK, str(schemacheck), str(plan_file), str(root)]
            run_process(plan_argv, root)  # untimed: bytecode, bundles
            plans, checks = [], []
            for _ in range(runs):
                plans.append(run_process(plan_argv, root))
                checks.append(run_process(check_argv, root))
            count = sum(r["type"].startswith("cloudflare:") for r in json.loads(plan_file.read_text())["resources"])
            p, c = median(plans), median(checks)
            rows.append(f"| {label}: {count} Cloudflare resources | {p.seconds:.2f} s, {p.peak_mib:.0f} MiB | {c.seconds:.2f} s, {c.peak_mib:.0f} MiB |")
    return [
        "## The provider check beside the offline plan (staging)",
        "",
        f"Median of {runs} runs of each whole process; the check's peak memory is its Python",
        "process's (schemacheck runs as its child): the upstream schema check `make plan`'s",
        "tests run without the engine; the real preview has its own section (`make preview`).",
        "",
        "| fleet | offline plan | provider check |",
        "|---|---|---|",
        *rows,
        "",
    ]


def measure_engine(runs: int, cold: bool = False) -> list[str]:
    return measure_build(cold) + measure_plugin(runs) + measure_check(runs)


def main(argv: list[str] | None = None) -> int:
    lines = measure_engine(3, cold="--cold-engine" in (argv or sys.argv[1:]))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
