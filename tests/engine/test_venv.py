"""Which Python a real preview would run the program and the policy pack with.

The language host module is not served here, so these run the part of it that is: the
SDK's own project loaders and its python/toolchain package, through engine/pulumi/venvcheck.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def venvcheck(binaries: dict[str, Path], project_file: Path, *modules: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binaries["venvcheck"]), str(project_file), *modules], text=True, capture_output=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("project_file", "modules"),
    [
        ("Pulumi.yaml", ("pulumi", "pulumi_cloudflare", "dill")),
        ("policies/PulumiPolicy.yaml", ("pulumi", "pulumi_policy", "pydantic", "yaml")),
    ],
)
def test_the_program_and_the_pack_run_in_the_projects_virtualenv(binaries: dict[str, Path], project_file: str, modules: tuple[str, ...]) -> None:
    done = venvcheck(binaries, ROOT / project_file, *modules)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == VENV_PYTHON


def test_a_pack_naming_a_virtualenv_nobody_creates_cannot_start(binaries: dict[str, Path], tmp_path: Path) -> None:
    # What `virtualenv: venv` did: the CLI creates no virtualenv for a pack given by path.
    pack = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("__pycache__"))
    path = pack / "PulumiPolicy.yaml"
    path.write_text(path.read_text().replace("virtualenv: ../.venv", "virtualenv: venv"))
    done = venvcheck(binaries, path, "pulumi_policy")
    assert done.returncode == 1
    assert f'"{pack / "venv"}" doesn\'t exist' in done.stderr, done.stderr


def test_a_module_missing_from_the_virtualenv_is_named(binaries: dict[str, Path]) -> None:
    done = venvcheck(binaries, ROOT / "Pulumi.yaml", "pulumi_aws")
    assert done.returncode == 1
    assert "module pulumi_aws does not import" in done.stderr
