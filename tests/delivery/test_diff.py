"""The plan diff: `make diff BASE=<rev>` / `OLD=<plan> NEW=<plan>`, as pull-request Markdown."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Planned, ProjectCopy
from tests.delivery.conftest import change_monitor_code
from tools import diff
from tools.offline import StackConfig, plan_document, run_program


def changes_of(result: diff.StackDiff) -> dict[str, list[str]]:
    return {c.name: [p.path for p in c.changes] for c in result.changed}


def resource(urn: str, inputs: dict[str, Any], **options: Any) -> dict[str, Any]:
    base = {"protect": False, "retainOnDelete": False, "dependsOn": [], "importId": ""}
    return {"type": "t:m:T", "name": urn.rsplit("::", 1)[-1], "urn": urn, "parent": "", "inputs": inputs, "options": base | options}


def plan(resources: list[dict[str, Any]], workers: dict[str, str] | None = None, **outputs: Any) -> dict[str, Any]:
    worker_outputs = {name: {"family": "api", "sha256": sha} for name, sha in (workers or {}).items()}
    return {"stack": "staging", "resources": resources, "outputs": {"workers": worker_outputs, **outputs}}


# Property paths -------------------------------------------------------------------------


def test_nested_changes_are_reported_by_property_path() -> None:
    old = {"observability": {"logs": {"enabled": True}, "headSamplingRate": 1}, "mainModule": "api.js"}
    new = {"observability": {"logs": {"enabled": False}, "headSamplingRate": 1}, "compatibilityFlags": ["nodejs_compat"]}
    assert [(c.path, c.old, c.new) for c in diff.compare(old, new, "")] == [
        ("compatibilityFlags", diff.ABSENT, ["nodejs_compat"]),
        ("mainModule", "api.js", diff.ABSENT),
        ("observability.logs.enabled", True, False),
    ]


def test_a_binding_inserted_in_the_middle_is_one_change_not_a_shifted_list() -> None:
    old = {"bindings": [{"name": "A", "type": "d1", "id": "1"}, {"name": "C", "type": "plain_text", "text": "x"}]}
    new = {"bindings": [{"name": "A", "type": "d1", "id": "1"}, {"name": "B", "type": "kv_namespace", "namespaceId": "2"},
                        {"name": "C", "type": "plain_text", "text": "y"}]}
    assert [c.path for c in diff.compare(old, new, "")] == ["bindings[name=B]", "bindings[name=C].text"]


def test_lists_without_names_compare_by_position() -> None:
    assert [(c.path, c.old, c.new) for c in diff.compare({"f": ["a", "b"]}, {"f": ["a", "c", "d"]}, "")] == [
        ("f[1]", "b", "c"),
        ("f[2]", diff.ABSENT, "d"),
    ]


# Whole plans ----------------------------------------------------------------------------


def test_added_removed_changed_options_and_outputs_are_told_apart() -> None:
    old = plan(
        [resource("urn:a::keep", {"x": 1}), resource("urn:a::gone", {}), resource("urn:a::opt", {"y": 1})],
        workers={"blaze-api": "1" * 64, "blaze-old": "2" * 64},
        commit="unrecorded",
    )
    new = plan(
        [resource("urn:a::keep", {"x": 2}), resource("urn:a::new", {}), resource("urn:a::opt", {"y": 1}, protect=True)],
        workers={"blaze-api": "3" * 64, "blaze-new": "4" * 64},
        commit="0" * 40,
    )
    result = diff.diff_plans(old, new)
    assert [r["urn"] for r in result.added] == ["urn:a::new"]
    assert [r["urn"] for r in result.removed] == ["urn:a::gone"]
    assert changes_of(result) == {"keep": ["x"], "opt": ["options.protect"]}
    assert [(d.worker, d.old, d.new) for d in result.digests] == [
        ("blaze-api", "1" * 64, "3" * 64),
        ("blaze-new", None, "4" * 64),
        ("blaze-old", "2" * 64, None),
    ]
    outputs = [c.path for c in result.outputs]
    assert "commit" in outputs and not any(p.endswith(".sha256") for p in outputs)


def test_identical_plans_have_no_changes(planned: dict[str, Planned]) -> None:
    result = diff.diff_plans(planned["prod"].plan, copy.deepcopy(planned["prod"].plan))
    assert result.empty
    assert "No changes." in diff.render([result], "t")


def test_changing_one_workers_source_shows_exactly_that_worker(project: ProjectCopy) -> None:
    before = plan_document(run_program("staging", project.config("staging"), root=project.root))
    change_monitor_code(project)
    after = plan_document(run_program("staging", project.config("staging"), root=project.root))
    result = diff.diff_plans(before, after)
    assert [d.worker for d in result.digests] == ["blaze-monitor"]
    assert changes_of(result) == {"blaze-monitor-script": ["contentSha256"]}
    assert (result.added, result.removed, result.outputs) == ([], [], [])
    text = diff.render([result], "Plan diff")
    assert text.count("blaze-") == text.count("blaze-monitor")
    new_digest = after["outputs"]["workers"]["blaze-monitor"]["sha256"]
    assert text.count(new_digest) == 1, "a new bundle shows once: in the digest table, not again as contentSha256"
    assert "Changed only in their bundle (the digest table above): `blaze-monitor-script`." in text
    assert "#### Changed" not in text


def test_a_rotated_secret_stays_redacted_in_the_diff(project: ProjectCopy) -> None:
    def planned_with(value: str) -> dict[str, Any]:
        config = project.config("staging")
        secrets = {f"blaze-infra:{key}": f"{value}-{key}" for key in ("oddsApiKey", "opsWebhookUrl", "opsWebhookSecret")}
        return plan_document(run_program("staging", StackConfig(config.values | secrets, sorted(secrets)), root=project.root))

    text = diff.render([diff.diff_plans(planned_with("OLDSECRET"), planned_with("NEWSECRET"))], "t")
    assert "OLDSECRET" not in text and "NEWSECRET" not in text
    assert "No changes." in text


def test_markdown_cells_survive_pipes_and_backticks() -> None:
    old = plan([resource("urn:a::r", {"pattern": "a|b", "text": "`x`"})])
    new = plan([resource("urn:a::r", {"pattern": "c|d", "text": "`y`"})])
    text = diff.render([diff.diff_plans(old, new)], "t")
    assert '| `pattern` | `"a\\|b"` | `"c\\|d"` |' in text
    assert '| `text` | `` "`x`" `` | `` "`y`" `` |' in text


def test_only_the_comment_is_cut_below_its_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = plan([resource(f"urn:a::r{i}", {"v": i}) for i in range(500)])
    new = plan([resource(f"urn:a::r{i}", {"v": i + 1}) for i in range(500)])
    paths = [tmp_path / "old.json", tmp_path / "new.json"]
    for path, document in zip(paths, (old, new)):
        path.write_text(json.dumps(document))
    comment = tmp_path / "comment.md"
    code = diff.main(["--old", str(paths[0]), "--new", str(paths[1]), "--out", str(comment), "--max-chars", "5000"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "cut here" not in printed and "`r499`" in printed, "the terminal gets the whole diff"
    text = comment.read_text()
    assert len(text) <= 5000 and "cut here:" in text and "`make diff` step" in text
    assert printed.startswith(text.split("\n\n…cut here")[0])


# The command ----------------------------------------------------------------------------


def run_diff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.diff", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"stack": "staging", "resources": [', "not JSON"),
        ("", "not JSON"),
        ('["staging"]', "not a plan"),
        ('{"stack": "staging", "resources": {}, "outputs": {}}', "resources must be a list"),
        ('{"stack": "staging", "resources": [{"urn": 1}], "outputs": {}}', "resources[0] has no urn"),
    ],
)
def test_an_unusable_plan_file_exits_2_naming_it(tmp_path: Path, content: str, problem: str) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(plan([])))
    bad.write_text(content)
    result = run_diff("--old", str(good), "--new", str(bad))
    assert result.returncode == diff.EXIT_UNUSABLE
    assert str(bad) in result.stderr and problem in result.stderr


def test_plans_of_different_stacks_are_not_compared(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(plan([])))
    (tmp_path / "b.json").write_text(json.dumps(plan([]) | {"stack": "prod"}))
    result = run_diff("--old", str(tmp_path / "a.json"), "--new", str(tmp_path / "b.json"))
    assert result.returncode == diff.EXIT_UNUSABLE and "different stacks" in result.stderr


def git(cwd: Path, *args: str) -> str:
    env = os.environ | {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def test_base_builds_the_old_plan_from_a_worktree_of_that_revision(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    for name in git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines():
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    git(checkout, "init", "--quiet")
    git(checkout, "add", "-A")
    git(checkout, "commit", "--quiet", "-m", "base")
    (checkout / "node_modules").symlink_to(ROOT / "node_modules")
    change_monitor_code(ProjectCopy(checkout))

    result = run_diff("--base", "HEAD", "--stacks", "staging", "--out", str(tmp_path / "diff.md"), cwd=checkout)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "diff.md").read_text()
    assert text.rstrip("\n") == result.stdout.rstrip("\n")
    assert "| `blaze-monitor` | monitor |" in text and "`blaze-monitor-script`" in text
    assert "1 changed, 0 added, 0 removed" in text
    assert len(git(checkout, "worktree", "list").splitlines()) == 1, "the temporary worktree is removed"

    unknown = run_diff("--base", "no-such-rev", cwd=checkout)
    assert unknown.returncode == diff.EXIT_UNUSABLE and "'no-such-rev' is not a commit" in unknown.stderr
