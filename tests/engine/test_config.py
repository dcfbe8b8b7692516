"""The stack files as the real CLI reads and writes them, and the offline plan after it."""

from __future__ import annotations

import json
import shutil

import pytest

from local.offline import OfflineRun, plan_document
from stacks.errors import InputError
from stacks.stack_file import read_stack_config
from tests.conftest import ROOT, STACKS, ProjectCopy
from tests.engine.conftest import Cli, stack_name


@pytest.mark.parametrize("stack", STACKS)
def test_the_cli_reads_each_stack_file_as_the_offline_plan_does(cli: Cli, stack: str) -> None:
    # The engine hands the program these values (PULUMI_CONFIG); the offline plan hands it
    # its own reading of the same file. Any difference would make the two runs differ.
    shown = cli.json("config", "--json", "-s", stack_name(stack))
    offline = read_stack_config(ROOT / f"Pulumi.{stack}.yaml", f"Pulumi.{stack}.yaml")
    assert sorted(shown) == sorted(offline.values)
    for key, entry in shown.items():
        assert not entry["secret"], key
        if "objectValue" in entry:
            assert json.loads(offline.values[key]) == entry["objectValue"], key
        else:
            assert offline.values[key] == entry["value"], key


def _cli_in(project: ProjectCopy, cli: Cli) -> Cli:
    shutil.copy2(ROOT / "Pulumi.yaml", project.root / "Pulumi.yaml")
    return Cli(cli.binary, project.root, cli.home, cli.state)


def test_a_secret_the_cli_encrypts_is_a_secret_to_the_plan_and_never_in_clear(cli: Cli, project: ProjectCopy) -> None:
    here = _cli_in(project, cli)
    value = "https://hooks.example.com/services/T0/B0/cli-set-secret-7d41"
    here.run("config", "set", "--secret", "blaze-infra:opsWebhookUrl", value, "-s", stack_name("staging"))
    written = (project.root / "Pulumi.staging.yaml").read_text()
    assert value not in written and "encryptionsalt:" in written
    run = OfflineRun("staging", project.config("staging"), project.root).execute()
    assert "blaze-infra:opsWebhookUrl" not in run.placeholder_secrets
    assert value not in json.dumps(plan_document(run))
    # The CLI rewrote the whole file (it quotes booleans and numbers); the fleet is the same.
    before = OfflineRun("staging", read_stack_config(ROOT / "Pulumi.staging.yaml", "Pulumi.staging.yaml"), ROOT).execute()
    assert [(r.urn, r.inputs) for r in run.registrations] == [(r.urn, r.inputs) for r in before.registrations]


def test_a_token_the_cli_stores_in_stack_config_stops_the_program(cli: Cli, project: ProjectCopy) -> None:
    here = _cli_in(project, cli)
    here.run("config", "set", "--secret", "cloudflare:apiToken", "t" * 40, "-s", stack_name("staging"))
    offline = OfflineRun("staging", project.config("staging"), project.root)
    with pytest.raises(InputError) as caught:
        offline.execute()
    assert (caught.value.file, caught.value.entry) == ("Pulumi.staging.yaml", "cloudflare:apiToken")
    assert "export CLOUDFLARE_API_TOKEN" in caught.value.problem
    assert offline.monitor.recorded() == []
