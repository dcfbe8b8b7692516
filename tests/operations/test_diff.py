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

from docgen import diagram
from local.offline import plan_document, run_program
from operations import diff
from stacks.catalog import load_catalog
from stacks.stack_file import StackConfig
from tests.conftest import ROOT, Planned, ProjectCopy, change_monitor_code
from tests.docgen import mermaid

CATALOG = load_catalog(ROOT)


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
    text = diff.render([result], "t")
    assert "No changes." in text and "```mermaid" not in text, "no diagram when nothing changed"


def test_changing_one_workers_source_shows_exactly_that_worker(project: ProjectCopy) -> None:
    before = plan_document(run_program("staging", project.config("staging"), root=project.root))
    change_monitor_code(project)
    after = plan_document(run_program("staging", project.config("staging"), root=project.root))
    result = diff.diff_plans(before, after)
    assert [d.worker for d in result.digests] == ["blaze-monitor"]
    assert changes_of(result) == {"blaze-monitor-script": ["contentSha256"]}
    assert (result.added, result.removed, result.outputs) == ([], [], [])
    text = diff.render([result], "Plan diff")
    (lines,) = mermaid.blocks(text)
    assert drawn_workers(mermaid.parse(lines)) == {"blaze-monitor": "changed"}
    prose = text.replace("\n".join(lines), "")
    assert prose.count("blaze-") == prose.count("blaze-monitor")
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


# The diagram of what a change touches ----------------------------------------------------


def drawn_workers(graph: mermaid.Graph) -> dict[str, str]:
    """Worker name -> its mark, for the Workers the diagram draws as touched."""
    ids = {diagram.node_id(w.name): w.name for w in CATALOG.workers}
    return {ids[node]: graph.classes[node] for node in graph.labels if node in ids}


def without_worker(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The plan as if the catalog had no Worker `name` (one no other Worker binds)."""
    out = copy.deepcopy(plan)
    owner = f"blaze:worker:WorkerService::{name}"
    out["resources"] = [r for r in out["resources"] if not (r["urn"].endswith(owner) or r["parent"].endswith(owner))]
    del out["outputs"]["workers"][name]
    return out


def script(plan: dict[str, Any], worker: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == f"{worker}-script")


def a_worker_added_one_removed_one_rebound(base: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """blaze-odds-ingest added, blaze-mlb-ingest-weather removed, the monitor's new bundle
    dropping its blaze-odds binding and gaining blaze-live-ticker, and blaze-odds renamed."""
    old, new = without_worker(base, "blaze-odds-ingest"), without_worker(base, "blaze-mlb-ingest-weather")
    monitor = script(new, "blaze-monitor")["inputs"]
    monitor["bindings"] = [b for b in monitor["bindings"] if b["name"] != "DB_ODDS"]
    monitor["bindings"].append({"name": "TICKER", "type": "kv_namespace", "namespaceId": base["outputs"]["kv"]["blaze-live-ticker"]["id"]})
    monitor["contentSha256"] = new["outputs"]["workers"]["blaze-monitor"]["sha256"] = "f" * 64
    next(r for r in new["resources"] if r["name"] == "blaze-odds-database")["inputs"]["name"] = "blaze-odds-v2-staging"
    return old, new


def every_bundle_changed(base: dict[str, Any]) -> dict[str, Any]:
    """What an edit of a module every Worker imports does: all 72 bundles change."""
    new = copy.deepcopy(base)
    for resource in new["resources"]:
        if resource["type"] == diff.SCRIPT_TYPE:
            resource["inputs"]["contentSha256"] = "e" * 64
    for worker in new["outputs"]["workers"].values():
        worker["sha256"] = "e" * 64
    return new


def catalog_targets(name: str) -> set[str]:
    worker = CATALOG.worker(name)
    return ({f"D1 {t}" for t in worker.d1.values()} | {f"KV {t}" for t in worker.kv.values()}
            | {f"R2 {t}" for t in worker.r2.values()} | set(worker.services.values()))


def test_the_diagram_marks_added_removed_and_changed_workers_and_leaves_the_others_out(planned: dict[str, Planned]) -> None:
    old, new = a_worker_added_one_removed_one_rebound(planned["staging"].plan)
    text = diff.render([diff.diff_plans(old, new)], "t")
    (lines,) = mermaid.blocks(text)
    graph = mermaid.parse(lines)
    assert drawn_workers(graph) == {"blaze-odds-ingest": "added", "blaze-mlb-ingest-weather": "removed", "blaze-monitor": "changed"}
    for name in ("blaze-odds-ingest", "blaze-mlb-ingest-weather"):
        reached = {graph.labels[node].split("<br>")[0] for node in graph.reaches(diagram.node_id(name))}
        assert reached == catalog_targets(name), name
    assert "#### What the change touches" in text.split("#### Worker bundle digests")[0], "the picture comes first"


def test_a_changed_workers_bindings_are_marked_by_what_the_change_does_to_them(planned: dict[str, Planned]) -> None:
    old, new = a_worker_added_one_removed_one_rebound(planned["staging"].plan)
    graph = mermaid.parse(diff.touched_diagram(diff.diff_plans(old, new))[0])
    edges = {graph.labels[node]: edge for node, edge in graph.reaches("blaze_monitor").items()}
    assert edges.pop("D1 blaze-odds<br>changed") == ("-.->", "binding removed")
    assert edges.pop("KV blaze-live-ticker") == ("==>", "binding added")
    assert set(edges) == (catalog_targets("blaze-monitor") - {"D1 blaze-odds"}) and set(edges.values()) == {("-->", "")}
    assert graph.classes["d1_blaze_odds"] == "changed", "a database whose resources change is marked itself"
    assert graph.classes["kv_blaze_live_ticker"] == graph.classes["kv_blaze_monitor_state"] == "bound"
    assert {graph.labels[n] for n in graph.groups["group_legend"]} == {"added", "removed", "changed", "bound, unchanged"}


def test_a_change_to_all_72_workers_is_drawn_by_family_with_counts_not_as_a_hairball(planned: dict[str, Planned]) -> None:
    base = planned["staging"].plan
    result = diff.diff_plans(base, every_bundle_changed(base))
    lines, note = diff.touched_diagram(result)
    graph = mermaid.parse(lines)
    assert note.startswith("72 Workers touched") and note in diff.render([result], "t")
    assert drawn_workers(graph) == {}
    families = {graph.labels[n] for n in graph.labels if n.startswith("family_")}
    per_family = {f: sum(w.family == f for w in CATALOG.workers) for f in CATALOG.families}
    assert families == {f"{f}: {n} Worker{'s' if n != 1 else ''} changed" for f, n in per_family.items()}
    gateway = graph.reaches("family_gateway_changed")
    assert gateway["svc_services"] == ("-->", "binds 39") and gateway["kv_namespaces"] == ("-->", "binds 5")
    assert diagram.edge_count(lines) <= diagram.MAX_EDGES


def test_a_worker_binding_many_targets_alone_reaches_them_through_one_box(planned: dict[str, Planned]) -> None:
    base = planned["staging"].plan
    new = copy.deepcopy(base)
    script(new, "blaze-gateway")["inputs"]["contentSha256"] = "d" * 64
    lines, note = diff.touched_diagram(diff.diff_plans(base, new))
    graph = mermaid.parse(lines)
    assert note == "" and drawn_workers(graph) == {"blaze-gateway": "changed"}
    assert {graph.labels[n] for n in graph.reaches("blaze_gateway")} == catalog_targets("blaze-gateway")
    assert diagram.edge_count(lines) == 2, "one edge to the box of 39 services, one to the box of 5 namespaces"


def test_every_diagram_the_diff_draws_renders_with_the_mermaid_toolchain(planned: dict[str, Planned], tmp_path: Path) -> None:
    base = planned["staging"].plan
    sources = {
        "each-worker": diff.touched_diagram(diff.diff_plans(*a_worker_added_one_removed_one_rebound(base)))[0],
        "by-family": diff.touched_diagram(diff.diff_plans(base, every_bundle_changed(base)))[0],
    }
    diagram.render_svgs(sources, tmp_path)
    for name, lines in sources.items():
        svg = (tmp_path / f"{name}.svg").read_text()
        graph = mermaid.parse(lines)
        texts = [part for label in graph.labels.values() for part in label.split("<br>")] + [e[2] for e in graph.edges if e[2]]
        assert texts and not [text for text in texts if text not in svg], name


def test_a_comment_is_never_cut_inside_a_diagram() -> None:
    text = "## t\n\nintro\n\n```mermaid\nflowchart LR\n" + "".join(f"  a{i} --> b{i}\n" for i in range(200)) + "```\n\nrest\n"
    comment = diff.cut_for_comment(text, 2000)
    assert len(comment) <= 2000 and "cut here" in comment
    assert "```mermaid" not in comment and comment.startswith("## t\n\nintro\n")


# The command ----------------------------------------------------------------------------


def run_diff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "operations.diff", *args], cwd=cwd, capture_output=True, text=True, check=False)


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


def test_a_base_from_before_the_plan_moved_to_local_is_planned_with_its_own_command(tmp_path: Path) -> None:
    # A revision older than local/ planned with tools/plan.py: what `make diff BASE=` runs there.
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").touch()
    (tmp_path / "tools" / "plan.py").write_text("import pathlib, sys\npathlib.Path(sys.argv[3]).write_text('planned ' + sys.argv[1])\n")
    assert diff.plan_module(tmp_path) == "tools.plan" and diff.plan_module(ROOT) == "local.plan"
    paths = diff.plan_tree(tmp_path, ["staging"], tmp_path / "out")
    assert paths["staging"].read_text() == "planned staging"
