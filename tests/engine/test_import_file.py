"""`make adopt`'s import file, read by the real CLI: `pulumi import --file` on a local backend.

The engine parses the file (names, parents, components, ids, versions) before anything
else and refuses a malformed one with its own message; only then does it load the
Cloudflare provider. Here the backend's PULUMI_HOME has no provider installed, so the
import stops exactly there: a file that reaches that point is one the engine accepted, and
a broken copy is refused before it. The whole import, with the bridged provider reading
every resource from a loopback account, is tests/engine/test_adoption.py. The project is
given the YAML runtime, whose host is built here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.cloudflare_api import CloudflareApi
from local.cloudflare_api.hand_made import live_account
from tests.conftest import ROOT, Planned
from tests.engine.conftest import Cli, stack_name
from tests.operations.accounts import adopted_import_file, project_with_plans

STOPPED_AT_THE_PROVIDER = "no resource plugin 'pulumi-resource-cloudflare' found in the workspace at version v6.23.1"


@pytest.fixture(scope="module")
def import_file(planned: dict[str, Planned], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with CloudflareApi(live_account(planned)) as api:
        return adopted_import_file(api, project_with_plans(planned, tmp_path_factory.mktemp("adopt")))


@pytest.fixture
def cli(binaries: dict[str, Path], tmp_path: Path) -> Cli:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: blaze-infra\nruntime: yaml\n")
    (project / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    (tmp_path / "state").mkdir()
    cli = Cli(binaries["pulumi"], project, tmp_path / "home", tmp_path / "state", plugins=binaries["pulumi-language-yaml"].parent)
    cli.run("stack", "init", stack_name("prod"))
    return cli


def pulumi_import(cli: Cli, document: dict[str, Any], tmp_path: Path) -> str:
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(document))
    done = cli.run("import", "--file", str(path), "--generate-code=false", "--yes", "-s", stack_name("prod"), check=False)
    assert done.returncode != 0, "nothing can be imported without the Cloudflare provider"
    return done.stdout + done.stderr


def test_the_engine_accepts_the_file_and_goes_on_to_the_provider(import_file: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    output = pulumi_import(cli, import_file, tmp_path)
    assert STOPPED_AT_THE_PROVIDER in output, output
    assert "has an ambiguous parent" not in output and "has no ID" not in output


@pytest.mark.parametrize(
    ("break_it", "refusal"),
    [
        (lambda r: r.append(dict(next(e for e in r if e["name"] == "blaze"))), "has an ambiguous parent"),
        (lambda r: next(e for e in r if "id" in e).pop("id"), "has no ID"),
        (lambda r: next(e for e in r if e.get("component")).update(id="x"), "has an ID, but is marked as a component"),
    ],
    ids=["a repeated name", "a resource without its id", "a component with an id"],
)
def test_the_engine_refuses_a_broken_copy_before_the_provider(
    import_file: dict[str, Any], cli: Cli, tmp_path: Path, break_it: Any, refusal: str,
) -> None:
    # The control: the engine really reads the file, so what it accepted above is its verdict.
    broken = json.loads(json.dumps(import_file))
    break_it(broken["resources"])
    output = pulumi_import(cli, broken, tmp_path)
    assert refusal in output and STOPPED_AT_THE_PROVIDER not in output, output
