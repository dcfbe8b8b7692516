"""The whole deploy lifecycle with the real engine, against a loopback Cloudflare account.

`pulumi up` of staging, then prod (its promotion gate reading the real staging stack); the
refresh the deploy workflow runs after an up; a no-op preview and refresh; one Worker's
code changed; drift made in the account; faults in the middle of an up; bad input; and
`pulumi destroy`. The CLI, the bridged provider, the pack and the migration step are the
real ones (engine/deployment.py); the account is local/cloudflare_api. The tests run
in file order on one deployment: each starts from where the one before left it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from d1.migration_set import load_migration_set
from engine.deployment import STACKS, Deployment, changed_outputs, dashboard, fleet_account, upload_by_hand
from local.cloudflare_api import TOKEN
from operations import audit
from stacks.catalog import load_catalog
from tests.conftest import ROOT, Planned, change_monitor_code
from tests.operations.accounts import project_with_plans

CATALOG = load_catalog(ROOT)
@pytest.fixture(scope="module")
def deployment(binaries: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    api = fleet_account()
    try:
        yield Deployment.start(tmp_path_factory.mktemp("lifecycle"), api, binaries)
    finally:
        api.close()


@pytest.fixture(scope="module")
def deployed(deployment: Deployment) -> None:
    """Both stacks up, as the deploy workflow runs them: staging, then prod."""
    for stack in STACKS:
        deployment.up(stack)


def test_up_creates_every_resource_of_both_stacks_in_the_account(deployment: Deployment, deployed: None, planned: dict[str, Planned]) -> None:
    api = deployment.api
    for stack in STACKS:
        state = {r["urn"] for r in deployment.resources(stack) if not r["type"].startswith("pulumi:")}
        assert state == {r["urn"] for r in planned[stack].plan["resources"]}, stack
    names = {stack: planned[stack].run.outputs for stack in STACKS}
    assert sorted(w.name for w in api.workers) == sorted(w["scriptName"] for s in STACKS for w in names[s]["workers"].values())
    assert len(api.databases) == 2 * len(CATALOG.databases)
    assert len(api.namespaces) == 2 * len(CATALOG.namespaces)
    assert len(api.buckets) == 2 * len(CATALOG.buckets)


def test_each_database_has_its_migrations_applied_after_a_restore_point(deployment: Deployment, deployed: None) -> None:
    for stack in STACKS:
        d1 = deployment.outputs(stack)["d1"]
        for database in CATALOG.databases:
            files = [m.name for m in load_migration_set(ROOT, database.migrations_dir).migrations]
            recorded = [row[0] for row in deployment.api.database(d1[database.name]["id"]).execute("SELECT name FROM d1_migrations ORDER BY id")]
            assert recorded == files, (stack, database.name)
            point = d1[database.name]["restorePoint"]
            assert point["databaseId"] == d1[database.name]["id"] and point["applies"] == files, (stack, database.name)


def test_prods_gate_read_the_staging_stack_the_backend_holds(deployment: Deployment, deployed: None) -> None:
    promotion = deployment.outputs("prod")["promotion"]
    assert promotion["stagingStack"] == "organization/blaze-infra/staging"
    staging = deployment.outputs("staging")["workers"]
    assert {name: w["sha256"] for name, w in deployment.outputs("prod")["workers"].items()} == {name: w["sha256"] for name, w in staging.items()}


@pytest.mark.parametrize("stack", STACKS)
def test_right_after_the_up_a_preview_shows_nothing_at_all(deployment: Deployment, deployed: None, stack: str) -> None:
    preview = json.loads(deployment.program("preview", stack, "--expect-no-changes", "--json", policy=True).done.stdout)
    assert set(preview["changeSummary"]) == {"same"}, _steps(preview)


def _steps(document: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(s["op"], s["urn"].rsplit("::", 1)[-1], s.get("detailedDiff")) for s in document.get("steps") or [] if s["op"] != "same"]


def _reasons(document: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every step that changes something (a StackReference's read changes nothing)."""
    return [(s["op"], s["urn"].rsplit("::", 1)[-1], s.get("diffReasons")) for s in document.get("steps") or [] if s["op"] not in ("same", "read")]


def _kind(deployment: Deployment, stack: str, name: str) -> str:
    urn = next(r["urn"] for r in deployment.resources(stack) if r["urn"].endswith(f"::{name}"))
    return urn.split("::")[2].rsplit(":", 1)[-1]


def _names_of(deployment: Deployment, stack: str, kind: str) -> set[str]:
    return {r["urn"].rsplit("::", 1)[-1] for r in deployment.resources(stack) if r["type"].rsplit(":", 1)[-1] == kind}


def _account(deployment: Deployment) -> str:
    return deployment.outputs("staging")["accountId"]


def _writes(deployment: Deployment, since: int) -> list[tuple[str, str]]:
    return [(r.method, r.path.split("/client/v4", 1)[-1]) for r in deployment.api.requests[since:] if r.method != "GET"]


def test_one_workers_code_change_updates_that_worker_alone_and_prod_waits_for_staging(deployment: Deployment, deployed: None) -> None:
    change_monitor_code(deployment.project)
    preview = json.loads(deployment.program("preview", "staging", "--json").done.stdout)
    assert [(op, name) for op, name, _ in _steps(preview)] == [("update", "blaze-monitor-script")]
    step = next(s for s in preview["steps"] if s["op"] == "update")
    old, new = step["oldState"]["inputs"], step["newState"]["inputs"]
    assert {k for k in set(old) | set(new) if old.get(k) != new.get(k)} == {"contentSha256"}  # an update, not a replace
    assert "contentSha256" in step["diffReasons"] and not step.get("replaceReasons")
    refused = deployment.program("preview", "prod", "--diff", check=False)
    assert refused.done.returncode != 0 and "blaze-monitor: would deploy sha256" in refused.output
    for stack in STACKS:
        before = len(deployment.api.requests)
        deployment.up(stack)
        script = deployment.outputs(stack)["workers"]["blaze-monitor"]["scriptName"]
        # The new bundle, uploaded once; no other write (the migration steps did not change).
        assert _writes(deployment, before) == [("PUT", f"/accounts/{_account(deployment)}/workers/scripts/{script}")], stack


def test_a_500_in_the_middle_of_an_up_fails_it_and_the_next_up_converges_without_duplicates(deployment: Deployment, deployed: None) -> None:
    # A change to the read APIs' bundle: 39 Workers to upload, so the faults land mid-way.
    source = deployment.project.root / "workers/src/api/index.ts"
    assert '"misconfigured"' in source.read_text()
    source.write_text(source.read_text().replace('"misconfigured"', '"misconfigured_dataset"', 1))
    counts = (len(deployment.api.workers), len(deployment.api.namespaces), len(deployment.api.databases))
    # One Worker's upload fails three times in a row: the provider's client retries a 5xx twice.
    broken = deployment.outputs("staging")["workers"]["blaze-nfl-stats"]["scriptName"]
    deployment.api.fail("PUT", rf"/workers/scripts/{broken}$", 500, times=3)
    failed = deployment.up("staging", check=False)
    assert failed.done.returncode != 0 and "500" in failed.output and broken in failed.output
    deployment.api.fail("PUT", r"/workers/scripts/[^/]+$", 429, skip=2, times=2)
    before = len(deployment.api.requests)
    deployment.up("staging")
    retried = [r for r in deployment.api.requests[before:] if r.method == "PUT"]
    assert len(retried) > len({r.path for r in retried})  # the 429s were retried by the provider's client
    assert (len(deployment.api.workers), len(deployment.api.namespaces), len(deployment.api.databases)) == counts
    preview = json.loads(deployment.program("preview", "staging", "--json", "--expect-no-changes").done.stdout)
    assert set(preview["changeSummary"]) == {"same"}


BAD_PROGRAM = """\
import pulumi, pulumi_cloudflare as cloudflare
from pathlib import Path
account = pulumi.Config("blaze-infra").require("accountId")
case = pulumi.Config("bad").require("case")
if case == "digest":
    Path(__file__).with_name("bundle.js").write_text("export default { fetch() { return new Response('x'); } };\\n")
    cloudflare.WorkersScript("bad", account_id=account, script_name="blaze-bad-input", content_file="bundle.js",
                             content_sha256="0" * 64, main_module="bundle.js")
elif case == "alert-type":
    cloudflare.NotificationPolicy("bad", account_id=account, name="blaze-bad-input", alert_type="not_an_alert_type",
                                  mechanisms={"emails": [{"id": "ops@example.com"}]})
else:
    pulumi.StackReference("organization/blaze-infra/staging-eu").get_output("workers")
"""


@pytest.mark.parametrize(("case", "message"), [
    ("digest", "SHA-256 Hash Mismatch. The provided SHA-256 hash '0000000000000000000000000000000000000000000000000000000000000000' does not match"),
    ("alert-type", '"not_an_alert_type"'),
    ("reference", 'unknown stack "organization/blaze-infra/staging-eu"'),
])
def test_bad_input_gets_the_engines_or_the_providers_own_message_and_nothing_is_written(
    deployment: Deployment, deployed: None, tmp_path: Path, case: str, message: str
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: blaze-infra\nruntime: python\n")
    (tmp_path / "bad.py").write_text(BAD_PROGRAM)
    workspace = deployment.workspace
    stack = f"bad-{case}"
    config = workspace.stacks / f"Pulumi.{stack}.yaml"
    if not workspace.has_stack(stack):
        workspace.pulumi("stack", "init", f"organization/blaze-infra/{stack}", "--secrets-provider", "passphrase")
    workspace.pulumi("config", "set", "blaze-infra:accountId", _account(deployment), "-s", f"organization/blaze-infra/{stack}")
    workspace.pulumi("config", "set", "bad:case", case, "-s", f"organization/blaze-infra/{stack}")
    before = len(deployment.api.requests)
    original_root, workspace.root = workspace.root, tmp_path
    try:
        done = workspace.run("up", stack, "--yes", "--skip-preview", program=tmp_path / "bad.py", check=False, capture=True)
    finally:
        workspace.root = original_root
    assert done.returncode != 0 and message in done.stdout + done.stderr, done.stdout[-3000:]
    assert _writes(deployment, before) == [] and config.is_file()


@pytest.mark.parametrize("stack", STACKS)
def test_a_refresh_changes_only_what_changed_outside_the_stack_then_nothing(deployment: Deployment, deployed: None, stack: str) -> None:
    log = deployment.logs / f"{stack}-refresh-preview.jsonl"
    deployment.cli("refresh", "--preview-only", "--event-log", str(log), stack=stack)
    # Staging's bundles changed since prod's up (the tests above), so prod's reference reads
    # new outputs; nothing else, in either stack, differs from what the ups recorded.
    expected = {"staging": {"outputs"}} if stack == "prod" else {}
    assert changed_outputs(log) == expected
    deployment.cli("refresh", "--yes", "--skip-preview", stack=stack)
    again = json.loads(deployment.cli("refresh", "--preview-only", "--expect-no-changes", "--json", stack=stack).stdout)
    assert set(again["changeSummary"]) == {"same"}
    # And the program differs only where the code changed: prod has not run the read APIs' new bundle yet.
    preview = json.loads(deployment.program("preview", stack, "--json").done.stdout)
    api_scripts = {f"{w.name}-script" for w in CATALOG.workers if w.family == "api"} if stack == "prod" else set()
    assert {(op, name) for op, name, _ in _reasons(preview)} == {("update", name) for name in api_scripts}


def test_drift_made_in_the_account_is_what_the_drift_report_and_the_audit_show(
    deployment: Deployment, deployed: None, planned: dict[str, Planned], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, outputs = _account(deployment), deployment.outputs("staging")
    client = dashboard(deployment.api)
    ingest = outputs["workers"]["blaze-mlb-ingest-schedule"]["scriptName"]
    client.workers.scripts.schedules.update(ingest, account_id=account, body=[{"cron": "0 */2 * * *"}])
    namespace = next(r for r in deployment.resources("staging") if r["urn"].endswith("::blaze-mlb-cache-namespace"))
    client.kv.namespaces.delete(namespace["id"], account_id=account)
    upload_by_hand(deployment.api, account, "blaze-hotfix-staging")

    refreshed = deployment.cli("refresh", "--preview-only", "--json", stack="staging")
    document = tmp_path / "refresh.json"
    document.write_text(refreshed.stdout)
    report = subprocess.run([sys.executable, "-m", "operations.drift", str(document), "--out", str(tmp_path / "report.md")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert report.returncode == 3, report.stdout + report.stderr
    text = (tmp_path / "report.md").read_text()
    assert "0 drifted, 1 deleted outside Pulumi" in text and "blaze-mlb-cache-namespace" in text
    # Neither a refresh nor an up reads a cron trigger's schedules back (README): the audit does.
    (tmp_path / "plans").mkdir()
    root = project_with_plans(planned, tmp_path / "plans")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", deployment.api.base_url)
    assert audit.main(["staging", "--out", str(tmp_path / "audit.md")], root=root) == 3
    audited = (tmp_path / "audit.md").read_text()
    assert "blaze-hotfix-staging" in audited and f"{ingest}: live ['0 */2 * * *']" in audited

    # Putting it right: the up recreates the namespace (and rebinds the Workers that use it);
    # the hand-made Worker and the cron are set back in the account, as the runbook says.
    deployment.program("up", "staging", "--yes", "--skip-preview", "--refresh")
    client.workers.scripts.delete("blaze-hotfix-staging", account_id=account)
    client.workers.scripts.schedules.update(ingest, account_id=account, body=[{"cron": c} for c in outputs["workers"]["blaze-mlb-ingest-schedule"]["crons"]])
    assert deployment.cli("refresh", "--yes", "--skip-preview", stack="staging").returncode == 0
    again = json.loads(deployment.cli("refresh", "--preview-only", "--json", "--expect-no-changes", stack="staging").stdout)
    assert set(again["changeSummary"]) == {"same"}
    # The drift workflow's second document: the code against the refreshed account.
    checked = json.loads(deployment.program("preview", "staging", "--refresh", "--expect-no-changes", "--json").done.stdout)
    assert not {"create", "update", "delete", "replace"} & set(checked["changeSummary"])
    assert audit.main(["staging", "--out", str(tmp_path / "audit.md")], root=root) == 0


def test_destroy_of_prod_is_refused_by_protection_and_stagings_goes_cleanly(deployment: Deployment, deployed: None) -> None:
    databases = len(deployment.api.databases)
    refused = deployment.cli("destroy", "--yes", "--skip-preview", stack="prod", check=False)
    assert refused.returncode != 0 and "protected" in refused.stdout + refused.stderr
    assert len(deployment.api.databases) == databases
    deployment.cli("destroy", "--yes", "--skip-preview", stack="staging")
    left = [w.name for w in deployment.api.workers] + [d.name for d in deployment.api.databases] + [n.title for n in deployment.api.namespaces]
    assert left and not [name for name in left if name.endswith("-staging")]
    assert deployment.resources("staging") == []
