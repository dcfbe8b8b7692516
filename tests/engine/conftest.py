"""The real Pulumi CLI, built from Go modules (engine/build.py), on a local file backend.

Every run is hermetic: its own PULUMI_HOME and backend folder, a throwaway passphrase, no
update check, no plugin downloads, no Cloudflare or Pulumi Cloud credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine import build
from tests.conftest import ROOT

PASSPHRASE = "throwaway-passphrase-for-tests"
# Self-managed backends accept only this organisation in fully qualified stack names.
ORGANIZATION = "organization"


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    """The engine's binaries, built on first use on this machine (make test builds them first)."""
    return build.ensure_all()


@dataclass
class Cli:
    """The pulumi binary run in `cwd` against the file backend in `state`."""

    binary: Path
    cwd: Path
    home: Path
    state: Path
    plugins: Path | None = None  # a folder of plugin binaries (a language host) put first on PATH

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_"))}
        if self.plugins is not None:
            keep["PATH"] = os.pathsep.join([str(self.plugins), keep.get("PATH", "")])
        return keep | {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.binary), *args, "--non-interactive"],
            cwd=self.cwd, env=self.environment(), text=True, capture_output=True, timeout=120, check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args).stdout)


def stack_name(stack: str) -> str:
    return f"{ORGANIZATION}/blaze-infra/{stack}"


@pytest.fixture
def cli(binaries: dict[str, Path], tmp_path: Path) -> Cli:
    """The CLI in a copy of the project's Pulumi files, with both stacks created."""
    work = tmp_path / "project"
    work.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, work / name)
    state = tmp_path / "state"
    state.mkdir()
    cli = Cli(binaries["pulumi"], work, tmp_path / "home", state)
    for stack in ("staging", "prod"):
        cli.run("stack", "init", stack_name(stack))
    return cli
