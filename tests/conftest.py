"""Shared fixtures: the real program run for both stacks, editable project copies, the Workers
in Miniflare (one driver per session, a fresh Miniflare per test), and no environment the
workflows control."""

from __future__ import annotations

import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from components.promotion import COMMIT_VARIABLE, GATE_VARIABLE
from local.driver import Driver, Instance
from local.offline import Run, plan_document, run_program
from local.project import ProjectCopy
from stacks.catalog import Catalog, load_catalog
from stacks.stack_file import StackConfig, read_stack_config


# A shell starts a background job (`.ci/run &`, nohup) with Ctrl-C ignored, and every child
# inherits that: `make dev` and the local fleet, which the tests stop as a user does, with
# Ctrl-C (SIGINT), would then never stop. The suite takes Ctrl-C back for itself and its children.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


ROOT = Path(__file__).resolve().parent.parent
STACKS = ("staging", "prod")
MONITOR_SOURCE = "workers/src/monitor/index.ts"


def stack_config(stack: str, root: Path = ROOT) -> StackConfig:
    display = f"Pulumi.{stack}.yaml"
    return read_stack_config(root / display, display)


@dataclass
class Planned:
    """A stack's program run and the plan document made from it."""

    run: Run
    plan: dict[str, Any]

    def of_type(self, short: str) -> list[dict[str, Any]]:
        return [r for r in self.plan["resources"] if r["type"].rsplit(":", 1)[-1] == short]

    def by_name(self, name: str) -> dict[str, Any]:
        return next(r for r in self.plan["resources"] if r["name"] == name)


@pytest.fixture(scope="session")
def planned() -> dict[str, Planned]:
    """Both stacks, each run once per session with its own committed config."""
    out = {}
    for stack in STACKS:
        run = run_program(stack, stack_config(stack))
        out[stack] = Planned(run, plan_document(run))
    return out


@pytest.fixture
def project(tmp_path: Path) -> ProjectCopy:
    for name in ("__main__.py", "package.json", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "stacks" / "catalog", tmp_path / "stacks" / "catalog")
    shutil.copytree(ROOT / "workers" / "src", tmp_path / "workers" / "src")
    shutil.copytree(ROOT / "workers" / "migrations", tmp_path / "workers" / "migrations")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    return ProjectCopy(tmp_path)


@pytest.fixture(autouse=True)
def workflow_environment_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program runs with the commit and the gate mode the workflows set cleared, so no
    test depends on the shell it was started from."""
    monkeypatch.delenv(COMMIT_VARIABLE, raising=False)
    monkeypatch.delenv(GATE_VARIABLE, raising=False)


def change_monitor_code(project: ProjectCopy) -> None:
    """Change what the monitor Worker does (the only Worker of its family)."""
    # A comment would not do: esbuild drops comments, so the bundle and its digest stay.
    path = project.root / MONITOR_SOURCE
    text = path.read_text()
    assert 'text(env, "REPORT_CRON")' in text
    path.write_text(text.replace('text(env, "REPORT_CRON")', 'text(env, "REPORT_CRON_PATCHED")'))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT)


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    log = tmp_path_factory.mktemp("driver") / "stderr.log"
    with log.open("wb") as stderr:
        running = Driver(ROOT, stderr=stderr)
        yield running
        running.close()


Start = Callable[..., Instance]


def _starter(driver: Driver, catalog: Catalog) -> Iterator[Start]:
    started: list[Instance] = []

    def _start(names: list[str], **options: Any) -> Instance:
        instance = driver.start(catalog, names, **options)
        started.append(instance)
        return instance

    yield _start
    for instance in started:
        instance.close()
    # Nothing a test runs may reach the network: the driver refused and recorded it.
    blocked = [url for instance in started for url in instance.blocked_at_close]
    assert blocked == [], f"Workers tried to reach the network: {blocked}"


@pytest.fixture
def start(driver: Driver, catalog: Catalog) -> Iterator[Start]:
    """`start(names, vars=..., secrets=..., persist=...)`: a Miniflare closed after the test."""
    yield from _starter(driver, catalog)


@pytest.fixture(scope="module")
def module_start(driver: Driver, catalog: Catalog) -> Iterator[Start]:
    """The same, shared by a module's tests: only for tests that leave the state as they found it."""
    yield from _starter(driver, catalog)
