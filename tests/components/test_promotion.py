"""Promotion by digest: prod deploys only the Worker bundles staging runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.promotion import PromotionError, gate_mode, judge, release_commit
from local import plan as plan_cli
from local.offline import OfflineRun, PlanError, plan_document, run_program
from stacks.errors import InputError
from stacks.settings import PromotionOverride
from tests.conftest import ROOT, Planned, ProjectCopy, change_monitor_code

SOURCE = "staging"  # the stack name in Pulumi.prod.yaml
REFERENCE = "organization/blaze-infra/staging"  # what the program reads offline (a self-managed backend's org)
A, B, C = "a" * 64, "b" * 64, "c" * 64


def staged(**digests: str) -> dict[str, Any]:
    return {"commit": "1" * 40, "workers": {name: {"sha256": digest} for name, digest in digests.items()}}


def refused_workers(message: str) -> list[str]:
    return re.findall(r"^  (\S+): would deploy", message, flags=re.MULTILINE)


def edit_promotion(project: ProjectCopy, promotion: dict[str, Any]) -> None:
    project.edit_yaml("Pulumi.prod.yaml", lambda d: d["config"].update({"blaze-infra:promotion": promotion}))


def staging_outputs(project: ProjectCopy) -> dict[str, Any]:
    return plan_document(run_program("staging", project.config("staging"), root=project.root))["outputs"]


# The gate's decision, on its own -------------------------------------------------------


def test_1_pass_every_worker_runs_in_staging_with_the_same_digest() -> None:
    verdict = judge({"blaze-api": A, "blaze-monitor": B}, staged(**{"blaze-api": A, "blaze-monitor": B}), SOURCE, None)
    assert verdict.staging_commit == "1" * 40
    assert verdict.overridden == () and verdict.reported == ()


def test_2_fail_one_error_names_every_refused_worker_with_both_digests() -> None:
    with pytest.raises(PromotionError) as caught:
        judge(
            {"blaze-api": A, "blaze-monitor": B, "blaze-new": C, "blaze-same": A},
            staged(**{"blaze-api": B, "blaze-monitor": A, "blaze-same": A}),
            SOURCE,
            None,
        )
    message = str(caught.value)
    assert refused_workers(message) == ["blaze-api", "blaze-monitor", "blaze-new"]
    assert f"blaze-api: would deploy sha256 {A}, staging runs sha256 {B}" in message
    assert f"blaze-monitor: would deploy sha256 {B}, staging runs sha256 {A}" in message
    assert f"blaze-new: would deploy sha256 {C}, staging does not run this Worker" in message
    assert "refusing to deploy 3 Workers" in message and SOURCE in message and "1" * 40 in message


def test_3_fail_staging_without_a_workers_output_is_refused_whole() -> None:
    with pytest.raises(PromotionError, match="exports no `workers` output"):
        judge({"blaze-api": A}, {}, SOURCE, None)


def test_4_pass_the_override_lets_through_only_the_workers_it_names() -> None:
    override = PromotionOverride.model_validate({"reason": "hotfix for the scoreboard outage", "workers": ["blaze-monitor"]})
    verdict = judge({"blaze-monitor": B}, staged(**{"blaze-monitor": A}), SOURCE, override)
    assert [m.worker for m in verdict.overridden] == ["blaze-monitor"]
    with pytest.raises(PromotionError) as caught:
        judge({"blaze-monitor": B, "blaze-api": B}, staged(**{"blaze-monitor": A, "blaze-api": A}), SOURCE, override)
    assert refused_workers(str(caught.value)) == ["blaze-api"]


def test_5_pass_report_mode_turns_refusals_into_a_list_for_warnings() -> None:
    verdict = judge({"blaze-monitor": B}, staged(**{"blaze-monitor": A}), SOURCE, None, mode="report")
    assert [m.worker for m in verdict.reported] == ["blaze-monitor"]


def test_report_mode_is_refused_outside_a_preview() -> None:
    assert gate_mode({}, dry_run=False) == "enforce"
    assert gate_mode({"BLAZE_PROMOTION_GATE": "report"}, dry_run=True) == "report"
    with pytest.raises(InputError, match="environment: BLAZE_PROMOTION_GATE: -: 'report' is for previews only"):
        gate_mode({"BLAZE_PROMOTION_GATE": "report"}, dry_run=False)
    with pytest.raises(InputError, match="BLAZE_PROMOTION_GATE: -: 'warn' is not one of"):
        gate_mode({"BLAZE_PROMOTION_GATE": "warn"}, dry_run=True)


def test_the_commit_comes_from_the_workflow_or_is_a_fixed_word() -> None:
    assert release_commit({}) == "unrecorded"
    assert release_commit({"BLAZE_COMMIT": "0123456789abcdef0123456789abcdef01234567"}) == "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(InputError, match="environment: BLAZE_COMMIT: -: 'main' is not a full 40-character"):
        release_commit({"BLAZE_COMMIT": "main"})


# The whole program under mocks ---------------------------------------------------------


def test_only_prod_is_gated_and_its_source_is_staging() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    staging = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())["config"]
    assert prod["blaze-infra:promotion"] == {"stagingStack": SOURCE}
    assert "blaze-infra:promotion" not in staging


def test_changing_one_workers_code_after_planning_staging_refuses_that_worker_only(project: ProjectCopy) -> None:
    outputs = staging_outputs(project)
    before = outputs["workers"]["blaze-monitor"]["sha256"]
    change_monitor_code(project)
    offline = OfflineRun("prod", project.config("prod"), project.root, stack_outputs={"staging": outputs})
    with pytest.raises(PromotionError) as caught:
        offline.execute()
    message = str(caught.value)
    assert refused_workers(message) == ["blaze-monitor"]
    after = json.loads((project.root / "build/workers/.inputs.json").read_text())["outputs"]["monitor"]
    assert after != before
    assert f"blaze-monitor: would deploy sha256 {after}, staging runs sha256 {before}" in message
    assert offline.monitor.registrations == {}, "the gate must stop prod before it registers any resource"


def test_prod_exports_the_staging_commit_it_promotes(project: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setenv("BLAZE_COMMIT", commit)
    outputs = staging_outputs(project)
    assert outputs["commit"] == commit
    run = run_program("prod", project.config("prod"), root=project.root, stack_outputs={"staging": outputs})
    assert run.outputs["commit"] == commit
    assert run.outputs["promotion"] == {"stagingStack": REFERENCE, "stagingCommit": commit, "overridden": []}
    assert run.warnings == []


def test_the_emergency_override_deploys_and_warns_on_every_run(project: ProjectCopy) -> None:
    outputs = staging_outputs(project)
    change_monitor_code(project)
    reason = "INC-412: monitor pages on a false positive"
    edit_promotion(project, {"stagingStack": SOURCE, "override": {"reason": reason, "workers": ["blaze-monitor"]}})
    run = run_program("prod", project.config("prod"), root=project.root, stack_outputs={"staging": outputs})
    assert run.outputs["promotion"]["overridden"] == ["blaze-monitor"]
    assert any("promotion override is set" in w and reason in w and "blaze-monitor" in w for w in run.warnings), run.warnings
    assert any(w.startswith("promotion override lets through blaze-monitor: would deploy") for w in run.warnings), run.warnings
    unchanged = run_program("prod", project.config("prod"), root=project.root, stack_outputs={"staging": staging_outputs(project)})
    assert unchanged.outputs["promotion"]["overridden"] == []
    assert any("promotion override is set" in w for w in unchanged.warnings), "printed while set, even when unused"


@pytest.mark.parametrize(
    ("override", "field", "problem"),
    [
        ({"reason": "because", "workers": ["blaze-monitor"]}, "override.reason", "at least 10 characters"),
        ({"workers": ["blaze-monitor"]}, "override.reason", "missing (required)"),
        ({"reason": "hotfix for an outage", "workers": []}, "override.workers", "at least 1 item"),
        ({"reason": "hotfix for an outage", "workers": ["blaze-monitr"]}, "override.workers.0", "'blaze-monitr' is not a catalog Worker"),
    ],
)
def test_a_bad_override_is_an_input_error_naming_the_field(project: ProjectCopy, override: dict, field: str, problem: str) -> None:
    edit_promotion(project, {"stagingStack": SOURCE, "override": override})
    offline = OfflineRun("prod", project.config("prod"), project.root, stack_outputs={"staging": {}})
    with pytest.raises(InputError) as caught:
        offline.execute()
    assert (caught.value.file, caught.value.entry, caught.value.field) == ("Pulumi.prod.yaml", "blaze-infra:promotion", field)
    assert problem in caught.value.problem
    assert offline.monitor.registrations == {}


def test_the_referenced_stack_is_the_one_prods_config_names(project: ProjectCopy) -> None:
    edit_promotion(project, {"stagingStack": "staging-eu"})
    with pytest.raises(PlanError, match="'organization/blaze-infra/staging-eu': no outputs of stack 'staging-eu'"):
        run_program("prod", project.config("prod"), root=project.root, stack_outputs={"staging": {}})


@pytest.mark.parametrize("organization", ["organization", "blazesportsintel"])
def test_the_reference_is_in_the_running_stacks_organisation(project: ProjectCopy, organization: str) -> None:
    # Self-managed backends know only `organization`; Pulumi Cloud has the real org. One
    # config must work on both, so the program takes the org from the running stack.
    outputs = staging_outputs(project)
    offline = OfflineRun("prod", project.config("prod"), project.root, stack_outputs={"staging": outputs}, organization=organization)
    run = offline.execute()
    assert run.outputs["promotion"]["stagingStack"] == f"{organization}/blaze-infra/staging"
    assert offline.mocks.inputs[("pulumi:pulumi:StackReference", "staging")]["name"] == f"{organization}/blaze-infra/staging"


def test_make_plan_prod_plans_staging_first_then_reads_its_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["prod", "--out", str(tmp_path / "prod.json")]) == 0
    assert "staging.json is missing: planning staging first" in capsys.readouterr().out
    staging = json.loads((tmp_path / "staging.json").read_text())
    prod = json.loads((tmp_path / "prod.json").read_text())
    assert prod["outputs"]["promotion"]["stagingStack"] == REFERENCE

    # A staging plan from other code: prod must now refuse exactly the Worker that differs.
    staging["outputs"]["workers"]["blaze-monitor"]["sha256"] = "0" * 64
    (tmp_path / "staging.json").write_text(json.dumps(staging))
    assert plan_cli.main(["prod", "--out", str(tmp_path / "prod.json")]) == plan_cli.EXIT_INPUT
    err = capsys.readouterr().err
    assert refused_workers(err) == ["blaze-monitor"]
    assert f"staging runs sha256 {'0' * 64}" in err
    # Offline the fix is planning staging, not deploying it: say so where the user is.
    assert f"Offline, the staging it compares with is {tmp_path / 'staging.json'}: run `make plan STACK=staging`" in err


def test_an_unreadable_staging_plan_is_reported_not_guessed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "staging.json").write_text('{"stack": "staging", "resources": [')
    assert plan_cli.main(["prod", "--out", str(tmp_path / "prod.json")]) == plan_cli.EXIT_FAILED
    assert "staging.json is not a readable plan" in capsys.readouterr().err
    assert not (tmp_path / "prod.json").exists()


def test_the_committed_stacks_promote_cleanly(planned: dict[str, Planned]) -> None:
    run = planned["prod"].run
    assert run.outputs["promotion"]["overridden"] == [] and run.warnings == []
    assert "promotion" not in planned["staging"].run.outputs
