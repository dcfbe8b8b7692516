"""A copy of the project's data, for a test or a benchmark to plan, deploy or change."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from stacks import PROJECT_ROOT
from stacks.stack_file import StackConfig, read_stack_config


@dataclass
class ProjectCopy:
    """A copy of the project's data (catalog, stack files, Worker sources) to plan, deploy or break.

    The code is the repository's own; `__main__.py` reads its data from its own folder.
    """

    root: Path

    def edit_yaml(self, relative: str, change: Callable[[Any], None]) -> None:
        path = self.root / relative
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def config(self, stack: str) -> StackConfig:
        display = f"Pulumi.{stack}.yaml"
        return read_stack_config(self.root / display, display)


def copy_project(folder: Path) -> ProjectCopy:
    """The project's data in `folder` (the code is the repository's), with its Pulumi.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("__main__.py", "package.json", "Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(PROJECT_ROOT / name, folder / name)
    for tree in ("stacks/catalog", "workers/src", "workers/migrations"):
        shutil.copytree(PROJECT_ROOT / tree, folder / tree)
    (folder / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    return ProjectCopy(folder)
