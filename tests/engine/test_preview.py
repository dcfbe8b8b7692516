"""`make preview`: a real `pulumi preview` of the unmodified program, offline.

The pinned CLI, the bridged Cloudflare provider's Check of every input, and the policy pack
as an analyzer, on a file backend (engine/workspace.py, engine/preview.py). The documented
command runs in a network namespace with only loopback, as the README says it needs no
network. What it previews is held against the offline plan of the same tree: the same URNs,
each a create, with the inputs the plan records.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.workspace import Workspace, stack_name
from local.offline import plan_document, run_program, write_plan
from policies.check import check_plan, read_plan
from policies.config import read_pack_config
from policies.framework import RunContext
from policies.pack import load_waivers, pack_policies
from tests.conftest import ROOT, STACKS, Planned, ProjectCopy, change_monitor_code

# Inputs the provider's Check adds to what the program sends (schema defaults), by type:
# none with this bridge and upstream v5.24.0 (its defaults are computed at plan time, as
# outputs), so a default that starts to appear here is a change to review.
CHECK_DEFAULTS: dict[str, set[str]] = {}


def offline_preview(out: Path, stack: str) -> subprocess.CompletedProcess[str]:
    """`python -m engine.preview <stack>` as `make preview` runs it, with only loopback."""
    command = f"ip link set lo up && exec {sys.executable} -m engine.preview {stack} --out {out}"
    return subprocess.run(["unshare", "--net", "sh", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)


@pytest.fixture(scope="module")
def previewed(tmp_path_factory: pytest.TempPathFactory, binaries: dict[str, Path]) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("preview")
    committed = {stack: (ROOT / f"Pulumi.{stack}.yaml").read_bytes() for stack in STACKS}
    runs = {stack: offline_preview(out, stack) for stack in STACKS}
    for stack in STACKS:
        assert (ROOT / f"Pulumi.{stack}.yaml").read_bytes() == committed[stack], f"Pulumi.{stack}.yaml was written"
    return {"out": out, "runs": runs}


def document(previewed: dict[str, Any], stack: str) -> dict[str, Any]:
    return json.loads((previewed["out"] / f"{stack}.json").read_text())


@pytest.mark.parametrize("stack", STACKS)
def test_the_preview_of_a_new_stack_creates_exactly_the_offline_plans_resources(previewed: dict[str, Any], planned: dict[str, Planned], stack: str) -> None:
    run = previewed["runs"][stack]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Resources:" in run.stdout and "to create" in run.stdout  # the CLI's own progress display
    steps = document(previewed, stack)["steps"]
    plan = planned[stack].plan
    root = f"urn:pulumi:{stack}::blaze-infra::pulumi:pulumi:Stack::blaze-infra-{stack}"
    creates = sorted(s["urn"] for s in steps if s["op"] == "create")
    assert creates == sorted([root, *(r["urn"] for r in plan["resources"])])
    # The plan takes referenced stacks' outputs from their plan files; the engine reads them.
    reads = [s["urn"] for s in steps if s["op"] == "read"]
    assert reads == ([f"urn:pulumi:prod::blaze-infra::pulumi:pulumi:StackReference::staging"] if stack == "prod" else [])
    assert len(steps) == len(creates) + len(reads)
    assert document(previewed, stack)["changeSummary"] == {"create": len(plan["resources"]) + 1}


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_the_provider_checked_is_the_input_the_plan_records(previewed: dict[str, Any], planned: dict[str, Planned], stack: str) -> None:
    by_urn = {s["urn"]: s for s in document(previewed, stack)["steps"]}
    added: dict[str, set[str]] = {}
    for resource in planned[stack].plan["resources"]:
        if not resource["type"].startswith("cloudflare:"):
            continue
        checked = by_urn[resource["urn"]]["newState"]["inputs"]
        mismatches = _compare(resource["inputs"], checked, "", added.setdefault(resource["type"], set()))
        assert mismatches == [], resource["urn"]
    assert {t: paths for t, paths in added.items() if paths} == CHECK_DEFAULTS


def test_the_pack_ran_as_an_analyzer_in_both_previews(previewed: dict[str, Any]) -> None:
    for stack in STACKS:
        events = [json.loads(line) for line in (previewed["out"] / f"{stack}.events.jsonl").read_text().splitlines()]
        assert any("policyLoadEvent" in e for e in events), stack
        summaries = [e["policyAnalyzeSummaryEvent"] for e in events if "policyAnalyzeSummaryEvent" in e]
        assert summaries and {s["policyPackName"] for s in summaries} == {"blaze-infra-policies"}, stack


def test_the_document_is_the_one_pulumi_preview_json_prints(binaries: dict[str, Path], tmp_path: Path) -> None:
    """One preview with both --json and --event-log: the digest of its log is its own JSON,
    except the state fields the log never carries and the duration's sub-second part."""
    workspace = Workspace(tmp_path / "engine", binaries=binaries)
    workspace.prepare("staging")
    events = tmp_path / "events.jsonl"
    printed = json.loads(workspace.run("preview", "staging", "--json", events=events, capture=True).stdout)
    rendered = workspace.digest(events)
    not_logged = {"dependencies", "propertyDependencies", "sourcePosition", "stackTrace", "additionalSecretOutputs"}
    strip = lambda doc: [{k: ({f: v for f, v in s[k].items() if f not in not_logged} if k.endswith("State") and s[k] else s[k])  # noqa: E731
                          for k in s} for s in doc["steps"]]
    assert strip(rendered) == strip(printed)
    assert {k: rendered[k] for k in ("config", "diagnostics", "changeSummary")} == {k: printed[k] for k in ("config", "diagnostics", "changeSummary")}
    assert abs(rendered["duration"] - printed["duration"]) < 10**9  # the log keeps whole seconds


def test_prods_gate_reads_staging_in_the_backend_and_refuses_a_bundle_staging_does_not_run(
    binaries: dict[str, Path], planned: dict[str, Planned], project: ProjectCopy, tmp_path: Path
) -> None:
    shutil.copy2(ROOT / "Pulumi.yaml", project.root / "Pulumi.yaml")
    workspace = Workspace(tmp_path / "engine", root=project.root, binaries=binaries)
    workspace.prepare("staging")
    workspace.set_outputs("staging", planned["staging"].plan["outputs"])
    workspace.prepare("prod")
    assert workspace.run("preview", "prod", check=False, capture=True).returncode == 0
    change_monitor_code(project)
    refused = workspace.run("preview", "prod", check=False, capture=True)
    assert refused.returncode != 0
    assert "refusing to deploy 1 Worker whose bundle staging" in refused.stdout + refused.stderr
    assert f"staging ({stack_name('staging')}, commit" in refused.stdout + refused.stderr


def test_the_packs_findings_in_the_event_log_are_make_policys(binaries: dict[str, Path], project: ProjectCopy, tmp_path: Path) -> None:
    """A copy with findings: a namespace nothing binds (advisory) and a Worker with four
    crons (staging: advisory over its limit of three). The engine's policy events and the
    offline check of the same tree's plan find the same rule, resource and message."""
    shutil.copy2(ROOT / "Pulumi.yaml", project.root / "Pulumi.yaml")
    project.edit_yaml("stacks/catalog/kv.yaml", lambda d: d["namespaces"].append({"name": "blaze-spare-cache", "purpose": "unbound on purpose", "team": "api"}))

    def four_crons(document: dict[str, Any]) -> None:
        worker = next(w for w in document["workers"] if w["name"] == "blaze-monitor")
        worker["crons"] = ["*/5 * * * *", "0 6 * * *", "30 6 * * *", "0 7 * * *"]
    project.edit_yaml("stacks/catalog/workers.yaml", four_crons)

    workspace = Workspace(tmp_path / "engine", root=project.root, binaries=binaries)
    workspace.prepare("staging")
    events = tmp_path / "events.jsonl"
    assert workspace.run("preview", "staging", events=events, policy=True, check=False, capture=True).returncode == 0
    # The engine prints a finding as the rule's description, a newline, then the message.
    found = {
        (e["policyName"], e.get("resourceUrn") or None, e["enforcementLevel"], e["message"].strip().rsplit("\n", 1)[-1])
        for e in (json.loads(line).get("policyEvent") for line in events.read_text().splitlines()) if e
    }
    plan_path = tmp_path / "staging.json"
    write_plan(plan_document(run_program("staging", project.config("staging"), root=project.root)), plan_path)
    context = RunContext(waivers=load_waivers(ROOT))
    settings = read_pack_config(ROOT / "policies/staging.json", "policies/staging.json", pack_policies(context))
    offline = check_plan(read_plan(plan_path, "staging"), settings, context)
    expected = {(v.rule, v.urn, v.level.value, v.message.strip()) for v in offline.violations}
    assert {rule for rule, *_ in expected} == {"blaze-data-unused", "blaze-worker-cron-limits"}
    assert found == expected


# What the preview shows for a value it cannot know yet (an output of a resource to create).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _compare(planned: Any, checked: Any, path: str, added: set[str]) -> list[str]:
    """Where the checked inputs differ from the plan's; keys only the Check added go to `added`.
    A secret (shown "[secret]", a whole list when one element is secret) or a value still
    unknown in a preview matches anything."""
    if checked in ("[secret]", UNKNOWN) or planned == "[secret]":
        return []
    if isinstance(planned, dict) and isinstance(checked, dict):
        added.update(f"{path}.{k}".lstrip(".") for k in set(checked) - set(planned))
        return [m for k in planned for m in _compare(planned[k], checked.get(k), f"{path}.{k}".lstrip("."), added)]
    if isinstance(planned, list) and isinstance(checked, list) and len(planned) == len(checked):
        return [m for p, c in zip(planned, checked) for m in _compare(p, c, f"{path}[]", added)]
    return [] if planned == checked else [f"{path}: plan {planned!r}, checked {checked!r}"]
