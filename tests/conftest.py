"""Shared fixtures: the real program run for both stacks, and editable project copies."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from stacks.stack_file import StackConfig, read_stack_config
from tools.offline import Run, plan_document, run_program

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("staging", "prod")


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


@dataclass
class ProjectCopy:
    """A copy of the project's data (catalog, stack files, Worker sources) to break on purpose.

    The code is the repository's own; `__main__.py` reads its data from its own folder.
    """

    root: Path

    def edit_yaml(self, relative: str, change: Callable[[Any], None]) -> None:
        path = self.root / relative
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def config(self, stack: str) -> StackConfig:
        return stack_config(stack, self.root)


@pytest.fixture
def project(tmp_path: Path) -> ProjectCopy:
    for name in ("__main__.py", "package.json", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "stacks" / "catalog", tmp_path / "stacks" / "catalog")
    shutil.copytree(ROOT / "workers" / "src", tmp_path / "workers" / "src")
    shutil.copytree(ROOT / "workers" / "migrations", tmp_path / "workers" / "migrations")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    return ProjectCopy(tmp_path)
