"""The offline plan: `python -m local.plan <stack>` and the file it writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local.offline import PlanError, Redactor, plan_document, run_program
from stacks.stack_file import REDACTED
from tests.conftest import ROOT, STACKS, Planned, ProjectCopy


def plan_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "local.plan", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_two_runs_on_one_commit_write_byte_identical_plans(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for out in (first, second):
        result = plan_cli("prod", "--out", str(out))
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    assert set(document) == {"stack", "resources", "outputs"} and document["stack"] == "prod"
    assert "stack prod: " in result.stdout and "blaze-monitor" in result.stdout


def test_the_summary_counts_types_and_lists_every_worker_with_family_crons_and_digest(tmp_path: Path) -> None:
    result = plan_cli("staging", "--out", str(tmp_path / "staging.json"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "    72  cloudflare:index/workersScript:WorkersScript" in lines
    monitor = next(line for line in lines if line.strip().startswith("blaze-monitor "))
    digest = json.loads((tmp_path / "staging.json").read_text())["outputs"]["workers"]["blaze-monitor"]["sha256"]
    assert monitor.split()[1:] == ["monitor", digest[:12], "crons:", "*/5", "*", "*", "*", "*,", "0", "6", "*", "*", "*"]


def test_an_unknown_stack_is_an_input_error_and_writes_nothing(tmp_path: Path) -> None:
    result = plan_cli("qa", "--out", str(tmp_path / "qa.json"))
    assert result.returncode == 1
    assert "error: no stack 'qa': there is no Pulumi.qa.yaml; the stacks are: prod, staging" in result.stderr
    assert not (tmp_path / "qa.json").exists()


@pytest.mark.parametrize("stack", STACKS)
def test_plan_resources_have_the_documented_shape(planned: dict[str, Planned], stack: str) -> None:
    for resource in planned[stack].plan["resources"]:
        assert set(resource) == {"type", "name", "urn", "parent", "id", "inputs", "options"}
        # Provider resources carry the id the mocks assigned; components have none.
        assert bool(resource["id"]) is resource["type"].startswith(("cloudflare:", "pulumi-python:")), resource["urn"]
        assert set(resource["options"]) == {"protect", "retainOnDelete", "dependsOn", "importId"}
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::blaze-infra::")
    types = {r["type"] for r in planned[stack].plan["resources"]}
    assert "cloudflare:index/workersScript:WorkersScript" in types


@pytest.mark.parametrize("stack", STACKS)
def test_urns_carry_every_ancestors_type_as_the_engines_do(planned: dict[str, Planned], stack: str) -> None:
    by_urn = {r["urn"]: r for r in planned[stack].plan["resources"]}
    deepest = max(by_urn.values(), key=lambda r: r["urn"].count("$"))
    assert deepest["urn"].count("$") == 2, deepest["urn"]  # fleet > component > resource
    for urn, resource in by_urn.items():
        chain, parent = [resource["type"]], resource["parent"]
        while parent and "::pulumi:pulumi:Stack::" not in parent:  # the engine leaves the stack out
            chain.insert(0, by_urn[parent]["type"])
            parent = by_urn[parent]["parent"]
        assert urn == f"urn:pulumi:{stack}::blaze-infra::{'$'.join(chain)}::{resource['name']}"


@pytest.mark.parametrize("stack", STACKS)
def test_invented_ids_are_unique_within_a_stack(planned: dict[str, Planned], stack: str) -> None:
    outputs = planned[stack].run.outputs
    ids = [v["id"] for group in ("d1", "kv") for v in outputs[group].values()]
    ids += list(outputs["alerting"]["webhooks"].values()) + list(outputs["alerting"]["policies"].values())
    assert len(ids) == len(set(ids))


def test_encrypted_config_values_appear_only_as_redacted_secrets(project: ProjectCopy) -> None:
    ciphertext = "v1:Zm9vYmFyYmF6:AAAAAAAAAAAAAAAAbm90LWEtcmVhbC1zZWNyZXQ="
    project.edit_yaml("Pulumi.staging.yaml", lambda d: d["config"].update({"blaze-infra:opsWebhookUrl": {"secure": ciphertext}}))
    config = project.config("staging")
    assert config.values["blaze-infra:opsWebhookUrl"] == REDACTED
    assert "blaze-infra:opsWebhookUrl" in config.secret_keys
    run = run_program("staging", config, root=project.root)
    assert "blaze-infra:opsWebhookUrl" not in run.placeholder_secrets
    text = json.dumps(plan_document(run))
    assert ciphertext not in text
    webhook = next(r for r in plan_document(run)["resources"] if r["type"].endswith("NotificationPolicyWebhooks"))
    assert webhook["inputs"]["url"] == REDACTED and webhook["inputs"]["secret"] == REDACTED


def test_the_redactor_refuses_a_secret_outside_a_secret_value() -> None:
    redactor = Redactor(["hunter2-token"])
    with pytest.raises(PlanError, match=r"urn:x\.bindings\[0\]\.text"):
        redactor.redact({"bindings": [{"type": "plain_text", "text": "Bearer hunter2-token"}]}, "urn:x")


def test_the_redactor_keeps_plain_neighbours_of_a_secret_readable() -> None:
    from pulumi.runtime import rpc

    wrapped = {
        rpc._special_sig_key: rpc._special_secret_sig,
        "value": [{"type": "plain_text", "text": "60"}, {"type": "secret_text", "text": "hunter2-token"}],
    }
    assert Redactor(["hunter2-token"]).redact({"bindings": wrapped}, "urn:x") == {
        "bindings": [{"type": "plain_text", "text": "60"}, {"type": "secret_text", "text": REDACTED}]
    }
    assert Redactor(["other"]).redact({"bindings": wrapped}, "urn:x") == {"bindings": REDACTED}
