"""Stack names and StackReferences as the real CLI resolves them on a self-managed backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.promotion import PromotionError
from engine import build
from local.offline import OfflineRun
from stacks.stack_file import read_stack_config
from tests.conftest import ROOT, Planned, ProjectCopy, change_monitor_code
from tests.engine.conftest import ORGANIZATION, Cli, stack_name


def test_the_cli_is_the_pinned_engine_version(cli: Cli) -> None:
    pinned = build.requirements("pulumi")[build.PULUMI_PKG]
    assert cli.run("version").stdout.strip() == pinned
    # The CLI may be newer than the Python SDK, never older (the proxy serves no 3.272/3.273).
    sdk = next(l.split("==")[1] for l in (ROOT / "requirements.txt").read_text().splitlines() if l.startswith("pulumi=="))
    as_tuple = lambda v: tuple(int(p) for p in v.lstrip("v").split("."))  # noqa: E731
    assert as_tuple(pinned)[:1] == as_tuple(sdk)[:1] and as_tuple(pinned) >= as_tuple(sdk), (pinned, sdk)


def test_a_self_managed_backend_takes_only_the_organisation_named_organization(cli: Cli) -> None:
    refused = cli.run("stack", "init", "blazesportsintel/blaze-infra/staging-eu", check=False)
    assert refused.returncode != 0
    assert "organization name must be 'organization'" in refused.stderr
    assert sorted(s["name"] for s in cli.json("stack", "ls", "--json")) == ["prod", "staging"]


def import_outputs(cli: Cli, stack: str, outputs: dict, tmp_path: Path) -> None:
    """Give a stack of the file backend exactly these outputs, as `pulumi stack import` takes them."""
    exported = cli.json("stack", "export", "-s", stack_name(stack))
    deployment = exported.setdefault("deployment", {})
    deployment["resources"] = [
        {
            "urn": f"urn:pulumi:{stack}::blaze-infra::pulumi:pulumi:Stack::blaze-infra-{stack}",
            "custom": False,
            "type": "pulumi:pulumi:Stack",
            "outputs": outputs,
        }
    ]
    path = tmp_path / f"{stack}.deployment.json"
    path.write_text(json.dumps(exported))
    cli.run("stack", "import", "-s", stack_name(stack), "--file", str(path))


def test_prods_gate_reads_staging_from_a_real_backend_under_the_name_the_program_builds(
    cli: Cli, planned: dict[str, Planned], project: ProjectCopy, tmp_path: Path
) -> None:
    staging = planned["staging"].plan["outputs"]
    import_outputs(cli, "staging", staging, tmp_path)
    read_back = cli.json("stack", "output", "--json", "--show-secrets", "-s", stack_name("staging"))
    assert read_back == staging
    assert cli.run("stack", "output", "commit", "-s", stack_name("staging")).stdout.strip() == staging["commit"]
    # Prod's program, given what the backend returned, asks for the very name the CLI used.
    config = read_stack_config(cli.cwd / "Pulumi.prod.yaml", "Pulumi.prod.yaml")
    run = OfflineRun("prod", config, ROOT, stack_outputs={"staging": read_back}, organization=ORGANIZATION).execute()
    assert run.outputs["promotion"]["stagingStack"] == stack_name("staging")
    # And still refuses a bundle that the stack in the backend does not run.
    change_monitor_code(project)
    with pytest.raises(PromotionError, match=r"blaze-monitor: would deploy sha256 \w+, staging runs sha256"):
        OfflineRun("prod", project.config("prod"), project.root, stack_outputs={"staging": read_back}).execute()


def test_a_reference_to_a_stack_the_backend_lacks_fails_with_the_clis_message(cli: Cli) -> None:
    missing = cli.run("stack", "output", "--json", "-s", stack_name("staging-eu"), check=False)
    assert missing.returncode != 0
    assert "no stack named 'organization/blaze-infra/staging-eu' found" in missing.stderr, missing.stderr


def test_only_previews_skip_the_checkpoints_they_never_write(binaries: dict[str, Path], tmp_path: Path) -> None:
    # A preview's snapshot manager discards what it saves, yet serialises the whole snapshot
    # after every step unless told to skip (BENCHMARKS.md: ten times the fleet). An up, a
    # refresh or a destroy writes its checkpoints, so an interrupted one leaves its state.
    from engine.workspace import Workspace

    log = tmp_path / "commands.log"
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/bin/sh\necho "$* skip=${{PULUMI_SKIP_CHECKPOINTS:-no}}" >> {log}\n')
    fake.chmod(0o755)
    workspace = Workspace(tmp_path / "engine", binaries=binaries)
    workspace.binaries = {**binaries, "pulumi": fake}
    for command in (["preview"], ["refresh", "--preview-only"], ["up", "--yes"], ["refresh", "--yes"], ["destroy", "--yes"]):
        workspace.pulumi(*command, "-s", "staging")
    said = dict(line.rsplit(" skip=", 1) for line in log.read_text().splitlines())
    assert said == {
        "preview -s staging --non-interactive": "true",
        "refresh --preview-only -s staging --non-interactive": "true",
        "up --yes -s staging --non-interactive": "no",
        "refresh --yes -s staging --non-interactive": "no",
        "destroy --yes -s staging --non-interactive": "no",
    }
