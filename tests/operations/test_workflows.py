"""The GitHub workflows, checked offline: schema, actionlint, pinned actions, make targets, wiring."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from engine import build
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
# Each action the workflows use, as its own action.yml at the pinned commit (the linter's metadata).
PINNED_ACTIONS = ROOT / ".github" / "pinned-actions"
USES = re.compile(r"^\s*(?:- )?uses: (?P<action>\S+)(?P<comment>.*)$", flags=re.MULTILINE)
PINNED = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})")
# The CLI the workflows install is the one the tests build and run (engine/pulumi/go.mod).
PULUMI_CLI = build.requirements("pulumi")[build.PULUMI_PKG].removeprefix("v")
ORG = "blazesportsintel"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    if True in document:
        document["on"] = document.pop(True)
    return document


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def steps(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in document["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def pulumi_steps(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, step in steps(document) if step.get("uses", "").startswith("pulumi/actions@")]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def test_the_workflows_exist() -> None:
    assert [p.name for p in workflow_files()] == ["deploy.yml", "drift.yml", "plan-diff-comment.yml", "pull-request.yml"]


def test_every_workflow_is_valid_against_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, workflow_files())],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "deploy.yml"
    shutil.copy2(WORKFLOWS / "deploy.yml", broken)
    broken.write_text(broken.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1))
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1 and "runs_on" in result.stdout


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """actionlint from engine/actionlint, built on first use on this machine (make test builds it first)."""
    return build.ensure("actionlint") / "actionlint"


def lint(actionlint: Path, *files: Path, pinned: bool = True) -> subprocess.CompletedProcess[str]:
    # shellcheck, when on PATH (GitHub's runners have it), also checks the run: scripts.
    options = ["-pinned-actions", str(PINNED_ACTIONS)] if pinned else []
    return subprocess.run(
        [str(actionlint), *options, "-no-color", "-oneline", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


def test_actionlint_finds_nothing_in_the_workflows(actionlint: Path) -> None:
    result = lint(actionlint, *workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


# (workflow, text, what replaces it, what actionlint says): each a mistake it must catch.
BROKEN_WORKFLOWS = [
    ("deploy.yml", "stack-name: blazesportsintel/staging", "stack_name: blazesportsintel/staging",
     'input "stack_name" is not defined in action "pulumi/actions@'),
    ("pull-request.yml", "policyPackConfigs: policies/${{ matrix.stack }}.json", "policyPackConfigs: policies/${{ matrix.stak }}.json",
     'property "stak" is not defined in object type {stack: string}'),
    ("drift.yml", "if: steps.report.outputs.status != 'clean'", "if: steps.reprot.outputs.status != 'clean'",
     'property "reprot" is not defined'),
    ("pull-request.yml", "    needs: test\n", "    needs: tests\n", 'job "preview" needs job "tests" which does not exist'),
    ("plan-diff-comment.yml", "          script: |\n", "          scripts: |\n", 'missing input "script" which is required by action "actions/github-script@'),
    ("drift.yml", "github.run_id }}", "github.run_id }", "got unexpected character"),
]


@pytest.mark.parametrize(("workflow", "text", "broken", "finding"), BROKEN_WORKFLOWS, ids=[c[3][:40] for c in BROKEN_WORKFLOWS])
def test_actionlint_catches_a_broken_workflow(actionlint: Path, tmp_path: Path, workflow: str, text: str, broken: str, finding: str) -> None:
    original = (WORKFLOWS / workflow).read_text()
    assert text in original, f"{workflow} no longer has {text!r}: pick another line to break"
    copy = tmp_path / workflow
    copy.write_text(original.replace(text, broken, 1))
    result = lint(actionlint, copy)
    assert result.returncode == 1 and finding in result.stdout, result.stdout + result.stderr


def test_without_the_pinned_metadata_actionlint_would_miss_a_wrong_input(actionlint: Path, tmp_path: Path) -> None:
    # Why engine/actionlint exists: actionlint's own data set knows `pulumi/actions@v6`, not a commit.
    copy = tmp_path / "deploy.yml"
    copy.write_text((WORKFLOWS / "deploy.yml").read_text().replace("stack-name:", "stack_name:"))
    assert lint(actionlint, copy, pinned=False).returncode == 0
    assert lint(actionlint, copy).returncode == 1


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in workflow_files():
        for name, job in load(path.name)["jobs"].items():
            yield path.name, name, job


def test_every_job_has_a_timeout() -> None:
    # GitHub's default is 6 hours: a hung step would hold the deploy concurrency group that long.
    for workflow, name, job in jobs():
        assert isinstance(job.get("timeout-minutes"), int) and 0 < job["timeout-minutes"] <= 60, f"{workflow} {name}"


def test_every_job_that_runs_make_caches_pip_and_npm_keyed_on_their_lockfiles() -> None:
    requirements = sorted(p.name for p in ROOT.glob("requirements*.txt"))
    assert requirements == ["requirements-dev.txt", "requirements.txt"]
    checked = []
    for workflow, name, job in jobs():
        runs = [i for i, s in enumerate(job["steps"]) if s.get("run", "").startswith("make ")]
        if not runs:
            continue
        before = job["steps"][: runs[0]]
        python = next(s["with"] for s in before if s.get("uses", "").startswith("actions/setup-python@"))
        assert python["cache"] == "pip", f"{workflow} {name}"
        assert sorted(p.name for p in ROOT.glob(python["cache-dependency-path"])) == requirements, f"{workflow} {name}"
        npm = [s["with"] for s in before if s.get("uses", "").startswith("actions/cache@") and s["with"]["path"] == "~/.npm"]
        assert len(npm) == 1 and "hashFiles('package-lock.json')" in npm[0]["key"], f"{workflow} {name}"
        checked.append(f"{workflow} {name}")
    assert len(checked) == 6, checked


def make_invocations() -> list[tuple[str, list[str]]]:
    found = []
    for path in workflow_files():
        for _, step in steps(load(path.name)):
            for line in step.get("run", "").splitlines():
                match = re.match(r"\s*make\s+(.*)$", line)
                if match:
                    # Expressions are filled in by GitHub; any word stands in for them here.
                    args = re.sub(r"\$\{\{[^}]*\}\}", "x", match.group(1)).split()
                    found.append((path.name, args))
    return found


def test_every_make_invocation_names_a_target_that_exists_and_parses() -> None:
    invocations = make_invocations()
    called = {args[0] for _, args in invocations}
    assert called == {"test", "plan", "plans", "diff", "setup"}
    targets = make_targets()
    for workflow, args in invocations:
        assert args[0] in targets, f"{workflow}: make {args[0]} is not a Makefile target"
        dry = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        assert dry.returncode == 0, f"{workflow}: make -n {' '.join(args)}: {dry.stderr}"


def test_direct_tool_calls_are_modules_that_exist() -> None:
    for path in workflow_files():
        for module in re.findall(r"\.venv/bin/python -m ([a-z_.]+)", path.read_text()):
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{path.name}: {module}"


def uses_lines() -> list[tuple[str, str, str]]:
    """(workflow, action, trailing text) of every `uses:` line, comments included."""
    return [(p.name, m["action"], m["comment"]) for p in workflow_files() for m in USES.finditer(p.read_text())]


def test_every_action_is_pinned_by_commit_with_its_release_in_a_comment() -> None:
    # A tag can be moved to other code; a commit cannot. The comment says which release it is.
    found = uses_lines()
    assert len(found) == sum(1 for p in workflow_files() for _, s in steps(load(p.name)) if "uses" in s)
    for workflow, action, comment in found:
        assert PINNED.fullmatch(action), f"{workflow}: {action} is not <owner>/<repo>@<40-hex commit>"
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{workflow}: {action} needs ' # vX.Y.Z', has {comment!r}"
    releases: dict[str, set[str]] = {}
    for _, action, comment in found:
        releases.setdefault(action.split("@")[0], set()).add(action.split("@")[1] + comment)
    assert {a: r for a, r in releases.items() if len(r) > 1} == {}, "one commit and release per action everywhere"


def test_every_pinned_action_has_its_action_yml_committed_and_runs_on_node24() -> None:
    # GitHub retires the Node 20 runtime for actions; runs.using of the pinned commit says which
    # one an action gets. The same files tell actionlint the actions' inputs (engine/actionlint).
    used = {action for _, action, _ in uses_lines()}
    committed = {str(p.relative_to(PINNED_ACTIONS).with_suffix("")) for p in PINNED_ACTIONS.rglob("*.yml")}
    assert used == committed, f"missing: {sorted(used - committed)}, no longer used: {sorted(committed - used)}"
    for action in sorted(used):
        metadata = yaml.safe_load((PINNED_ACTIONS / f"{action}.yml").read_text())
        assert metadata["runs"]["using"] == "node24", f"{action} runs on {metadata['runs']['using']}"


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml", "drift.yml"])
def test_pulumi_actions_steps_install_the_cli_the_tests_build(name: str) -> None:
    # Their inputs are actionlint's to check, against pulumi/actions' own action.yml.
    found = pulumi_steps(load(name))
    assert found, name
    for job, step in found:
        assert step["with"]["pulumi-version"] == PULUMI_CLI, f"{name} {job}"


def test_pull_requests_preview_both_stacks_with_the_policy_pack_and_edit_one_comment() -> None:
    document = load("pull-request.yml")
    preview = document["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    ((_, step),) = [(j, s) for j, s in pulumi_steps(document) if j == "preview"]
    inputs = step["with"]
    assert inputs["command"] == "preview" and inputs["stack-name"] == f"{ORG}/${{{{ matrix.stack }}}}"
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "policies/${{ matrix.stack }}.json"
    assert inputs["comment-on-pr"] is True and inputs["edit-pr-comment"] is True
    assert "head.repo.full_name == github.repository" in preview["if"], "forks get no secrets, so no preview"
    assert preview["env"]["BLAZE_COMMIT"] == "${{ github.event.pull_request.head.sha }}"


def test_the_plan_diff_needs_no_secrets_and_is_commented_from_a_trusted_workflow() -> None:
    document = load("pull-request.yml")
    job = document["jobs"]["plan-diff"]
    assert "secrets." not in yaml.safe_dump(job)
    runs = [s.get("run", "") for s in job["steps"]]
    assert "make plan STACK=staging" in runs and "make plan STACK=prod" in runs
    assert any(r.startswith("make diff BASE=${{ github.event.pull_request.base.sha }}") for r in runs)
    comment = load("plan-diff-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == [document["name"]]
    assert comment["permissions"] == {"actions": "read", "pull-requests": "write"}
    used = [s.get("uses", "") for _, s in steps(comment)]
    assert not any(u.startswith("actions/checkout") for u in used), "never check out a fork's code with a write token"
    script = next(s["with"]["script"] for _, s in steps(comment) if "github-script" in s.get("uses", ""))
    assert "updateComment" in script and "pull.head.sha !== context.payload.workflow_run.head_sha" in script


def test_deploy_goes_to_staging_then_prod_from_the_same_commit_behind_an_environment() -> None:
    document = load("deploy.yml")
    assert document["on"] == {"push": {"branches": ["main"]}}
    staging, prod = document["jobs"]["staging"], document["jobs"]["prod"]
    assert prod["needs"] == "staging"
    assert prod["environment"] == "prod"
    for stack, job in (("staging", staging), ("prod", prod)):
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        assert job["env"]["BLAZE_COMMIT"] == "${{ github.sha }}"
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["ref"] == "${{ github.sha }}"
        ((_, up),) = [(j, s) for j, s in pulumi_steps(document) if j == stack]
        assert up["with"]["command"] == "up" and up["with"]["stack-name"] == f"{ORG}/{stack}"
        assert (up["with"]["policyPacks"], up["with"]["policyPackConfigs"]) == ("policies", f"policies/{stack}.json")
        assert "BLAZE_PROMOTION_GATE" not in job["env"], "a deploy always enforces the promotion gate"


def test_drift_runs_both_checks_per_stack_on_a_schedule_and_on_demand() -> None:
    document = load("drift.yml")
    assert set(document["on"]) == {"schedule", "workflow_dispatch"}
    assert document["permissions"]["issues"] == "write"
    job = document["jobs"]["drift"]
    assert job["concurrency"]["group"] == "drift-${{ matrix.stack }}"
    text = (WORKFLOWS / "drift.yml").read_text()
    assert 'pulumi refresh --preview-only --json --non-interactive --stack "$STACK"' in text
    assert 'pulumi preview --refresh --expect-no-changes --json --non-interactive --stack "$STACK"' in text
    assert ".venv/bin/python -m operations.drift" in text and "make drift-report" not in text, "make would hide exit 3"
    script = next(s["with"]["script"] for _, s in steps(document) if "github-script" in s.get("uses", ""))
    assert 'state: "closed"' in script and "issues.create" in script and "Drift: " in script


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_drift_webhook_keys_are_the_stacks_alert_webhook(stack: str) -> None:
    env = load("drift.yml")["jobs"]["drift"]["env"]
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    hook = config["blaze-infra:alerts"]["destinations"]["webhooks"]["ops"]
    assert env["ALERT_WEBHOOK_URL_KEY"] == f"blaze-infra:{hook['urlSecret']}"
    assert env["ALERT_WEBHOOK_SECRET_KEY"] == f"blaze-infra:{hook['signingSecret']}"


def test_the_promotion_source_is_the_staging_stack_the_workflows_deploy() -> None:
    # The org and project come from the running stack (components/promotion.py), so prod
    # deployed as blazesportsintel/prod reads blazesportsintel/blaze-infra/staging.
    source = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]["blaze-infra:promotion"]["stagingStack"]
    deployed = [s["with"]["stack-name"] for _, s in steps(load("deploy.yml")) if s.get("with", {}).get("command") == "up"]
    assert f"{ORG}/{source}" in deployed and f"{ORG}/prod" in deployed, deployed


def test_the_test_job_has_the_go_that_builds_the_real_engine() -> None:
    test = load("pull-request.yml")["jobs"]["test"]
    go = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-go@"))
    wanted = tuple(int(p) for p in go["with"]["go-version"].split("."))
    for module in sorted(p.parent for p in (ROOT / "engine").glob("*/go.mod")):
        needed = re.search(r"^go (\S+)$", (module / "go.mod").read_text(), flags=re.MULTILINE).group(1)
        assert wanted >= tuple(int(p) for p in needed.split(".")), f"{module.name} needs go {needed}"
    assert [s.get("run") for s in test["steps"]][-1] == "make test"


def _pulumi_commands(job: dict[str, Any]) -> list[str]:
    """What each step of a job asks pulumi to do: the action's command, or a `pulumi ...` line."""
    found = []
    for step in job.get("steps", []):
        if step.get("uses", "").startswith("pulumi/actions@") and "command" in step.get("with", {}):
            found.append(step["with"]["command"])  # without one, the action only installs the CLI
        for line in str(step.get("run", "")).splitlines():
            words = line.split()
            if words[:1] == ["pulumi"] and len(words) > 1:
                found.append(" ".join(w for w in words[1:] if w == "--preview-only" or not w.startswith("-") and w.isalpha()))
    return found


def test_preview_only_jobs_skip_checkpoints_and_deploys_keep_them() -> None:
    # A preview's checkpoints are discarded, yet saved after every step unless skipped: the
    # preview then grows with the square of the stack (BENCHMARKS.md). A deploy keeps them.
    seen = set()
    for workflow, name, job in jobs():
        commands = _pulumi_commands(job)
        if not commands:
            continue
        skips = job.get("env", {}).get("PULUMI_SKIP_CHECKPOINTS") == "true"
        previews_only = all(c == "preview" or c.startswith("preview ") or "--preview-only" in c for c in commands)
        assert skips == previews_only, (workflow, name, commands)
        seen.add((workflow, previews_only))
    assert {("pull-request.yml", True), ("drift.yml", True)} <= seen, seen
