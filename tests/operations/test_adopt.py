"""`make adopt` and `make audit` against a live account: the loopback Cloudflare v4 API of
local/cloudflare_api/, with the official SDK pointed at it by CLOUDFLARE_BASE_URL.

The account is built from both stacks' plans, as the seed's hand-made fleet would be: every
declared Worker, database (its tables made by hand, no d1_migrations), namespace, bucket,
route, domain, policy and webhook exists live under its declared name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from local.cloudflare_api import TOKEN, CloudflareApi, Database, Namespace, Policy, Script
from local.cloudflare_api.hand_made import hand_made_schema, hex_id, live_account, uuid_id
from operations import adopt as adopt_module
from operations import audit as audit_module
from tests.conftest import ROOT, Planned
from tests.operations.accounts import project_with_plans


@pytest.fixture
def root(planned: dict[str, Planned], tmp_path: Path) -> Path:
    return project_with_plans(planned, tmp_path)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    yield


def run(api: CloudflareApi, root: Path, monkeypatch: pytest.MonkeyPatch, tool: Any = adopt_module, stack: str = "prod") -> int:
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.base_url)
    return tool.main([stack], root=root)


def written(root: Path, stack: str = "prod") -> tuple[dict[str, Any], str]:
    return json.loads((root / "build/adopt" / f"{stack}.json").read_text()), (root / "build/adopt" / f"{stack}.md").read_text()


def importable(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"].startswith("cloudflare:")
            and adopt_module.import_id_template(r["type"]) is not None]


def test_a_live_account_matching_the_catalog_gives_every_importable_resource_and_nothing_unmanaged(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with CloudflareApi(live_account(planned)) as api:
        assert run(api, root, monkeypatch) == 0, capsys.readouterr().err
    document, report = written(root)
    ids = {e["logicalName"] if "logicalName" in e else e["name"]: e["id"] for e in document["resources"] if "id" in e}
    declared = importable(planned["prod"].plan)
    assert sorted(ids) == sorted(r["name"] for r in declared)
    assert not any("<" in value or "PLACEHOLDER" in value for value in ids.values())
    account = planned["prod"].plan["resources"][0]["inputs"]["accountId"]
    assert ids["blaze-gateway-script"] == f"{account}/blaze-gateway"
    crons = next(r for r in declared if r["type"].endswith("WorkersCronTrigger"))
    assert ids[crons["name"]] == f"{account}/{crons['inputs']['scriptName']}"
    assert ids["blaze-media-database"] == f"{account}/{uuid_id('blaze-media')}"
    assert ids["blaze-media-bucket"] == f"{account}/blaze-media/default"
    route = next(r for r in declared if r["type"].endswith("WorkersRoute"))
    assert ids[route["name"]] == f"{route['inputs']['zoneId']}/{hex_id(route['inputs']['pattern'])}"
    assert "- unmanaged (live, declared by no stack): 0" in report and "Nothing: every live resource is declared" in report
    # Every parent the file names is an entry of the file, and names are unique (the engine
    # refuses an ambiguous parent).
    names = [e["name"] for e in document["resources"]]
    assert len(names) == len(set(names))
    assert {e["parent"] for e in document["resources"] if "parent" in e} <= set(names)
    # Not importable: the CORS and lifecycle rules and the migration commands are left to the first up.
    assert not any(e["type"].endswith(("R2BucketCors", "R2BucketLifecycle")) or e["type"].startswith("command:") for e in document["resources"])
    assert "blaze-media-cors" in report and "blaze-media-migrations" in report


def test_hand_made_resources_are_unmanaged_and_a_missing_database_is_to_be_created(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = live_account(planned)
    live = dataclasses.replace(
        live,
        scripts=[*live.scripts, Script("blaze-hotfix-by-hand", ["0 * * * *"])],
        namespaces=[*live.namespaces, Namespace(hex_id("scratch"), "blaze-scratch")],
        databases=[d for d in live.databases if d.name != "blaze-odds"],
    )
    with CloudflareApi(live) as api:
        assert run(api, root, monkeypatch) == 0
        document, report = written(root)
        assert "- Worker blaze-hotfix-by-hand" in report and f"- KV namespace blaze-scratch ({hex_id('scratch')})" in report
        assert "- `blaze-odds-database` (D1Database blaze-odds)" in report
        assert not any(e["name"] == "blaze-odds-database" for e in document["resources"])
        assert any(e["name"] == "blaze-odds-script" for e in document["resources"]), "its Worker is still adopted"
        assert "blaze-odds-staging" not in report, "staging's resources are declared, not unmanaged"
        assert run(api, root, monkeypatch, audit_module) == audit_module.EXIT_UNMANAGED


def test_the_audit_of_an_account_with_nothing_unmanaged_exits_0(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with CloudflareApi(live_account(planned)) as api:
        assert run(api, root, monkeypatch, audit_module) == 0
        assert not any(r.path.endswith("/query") for r in api.requests), "the audit reads no database"
    assert "Nothing: every live resource is declared by a stack." in capsys.readouterr().out


def test_lists_are_read_to_their_last_page(planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = {"databases": 10, "namespaces": 4, "zones": 5, "buckets": 2}
    with CloudflareApi(live_account(planned), page_size=sizes) as api:
        assert run(api, root, monkeypatch) == 0
        pages = {name: [r for r in api.requests if r.method == "GET" and r.path.endswith(suffix)]
                 for name, suffix in (("databases", "/d1/database"), ("namespaces", "/kv/namespaces"), ("buckets", "/r2/buckets"))}
    assert len(pages["namespaces"]) >= 42 // 4 and len(pages["databases"]) >= 36 // 10 and len(pages["buckets"]) >= 3
    document, report = written(root)
    assert sum("id" in e for e in document["resources"]) == len(importable(planned["prod"].plan))
    assert "- unmanaged (live, declared by no stack): 0" in report


def test_a_429_is_retried_after_its_retry_after(planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with CloudflareApi(live_account(planned)) as api:
        api.fail("GET", r"/storage/kv/namespaces$", 429, times=2, headers={"Retry-After": "1"})
        assert run(api, root, monkeypatch) == 0
        first_pages = [r for r in api.requests if r.path.endswith("/kv/namespaces") and r.query.get("page", ["1"]) == ["1"]]
    assert len(first_pages) == 3
    assert sum("id" in e for e in written(root)[0]["resources"]) == len(importable(planned["prod"].plan))


def test_a_429_that_does_not_end_fails_after_a_bounded_number_of_retries(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with CloudflareApi(live_account(planned)) as api:
        api.fail("GET", r"/workers/domains$", 429, times=None, headers={"Retry-After": "0"})
        assert run(api, root, monkeypatch) == 2
        assert len([r for r in api.requests if r.path.endswith("/workers/domains")]) == adopt_module.MAX_RETRIES + 1
    assert "list Workers custom domains: HTTP 429" in capsys.readouterr().err
    assert not (root / "build/adopt").exists()


def test_a_403_gives_a_clear_message_and_keeps_the_earlier_file(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with CloudflareApi(live_account(planned)) as api:
        assert run(api, root, monkeypatch) == 0
        before = written(root)
        api.fail("GET", r"/d1/database$", 403)
        assert run(api, root, monkeypatch) == 2
    err = capsys.readouterr().err
    assert "list D1 databases: HTTP 403: Authentication error (code 10000)" in err and "nothing was written" in err
    assert TOKEN not in err
    assert written(root) == before


def test_a_500_in_the_middle_of_a_listing_writes_nothing(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with CloudflareApi(live_account(planned), page_size={"namespaces": 5}) as api:
        api.fail("GET", r"/storage/kv/namespaces$", 500, times=None, skip=2)
        assert run(api, root, monkeypatch) == 2
    assert "list KV namespaces: HTTP 500" in capsys.readouterr().err
    assert not (root / "build/adopt").exists()


def test_the_tool_only_reads(planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with CloudflareApi(live_account(planned)) as api:
        assert run(api, root, monkeypatch) == 0
        sent = list(api.requests)
    posts = [r for r in sent if r.method != "GET"]
    assert all(r.method == "POST" and r.path.endswith("/query") for r in posts), [(r.method, r.path) for r in posts]
    assert posts and all(str(r.body["sql"]).lstrip().upper().startswith("SELECT") for r in posts)


def test_two_live_candidates_are_named_and_no_import_file_is_written(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    live = live_account(planned)
    twin = Policy(uuid_id("a twin"), "blaze-certificates", "universal_ssl_event_type")
    with CloudflareApi(dataclasses.replace(live, policies=[*live.policies, twin])) as api:
        assert run(api, root, monkeypatch) == 1
    err = capsys.readouterr().err
    original = next(p for p in live.policies if p.name == "blaze-certificates")
    assert f"notification policy blaze-certificates ({original.id}) and notification policy blaze-certificates ({twin.id})" in err
    assert not (root / "build/adopt/prod.json").exists()
    assert "## Ambiguous" in (root / "build/adopt/prod.md").read_text()


def test_baselines_are_proposed_from_the_live_schema(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = live_account(planned)
    changed = {
        "blaze-media": Database(uuid_id("blaze-media"), "blaze-media", hand_made_schema("workers/migrations/media", 2)),
        "blaze-odds": Database(uuid_id("blaze-odds"), "blaze-odds", hand_made_schema("workers/migrations/odds") + "ALTER TABLE odds_events ADD COLUMN note TEXT;"),
        "blaze-search": Database(uuid_id("blaze-search"), "blaze-search", ""),
    }
    # The stack already names a baseline for one database, a different one than its schema shows.
    stack_file = root / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace(
        "  blaze-infra:protectData: true\n", "  blaze-infra:d1Baselines:\n    blaze-monitoring: 0001_metrics_incidents_reports.sql\n  blaze-infra:protectData: true\n"))
    with CloudflareApi(dataclasses.replace(live, databases=[changed.get(d.name, d) for d in live.databases])) as api:
        assert run(api, root, monkeypatch) == 0
    report = written(root)[1]
    assert ("- blaze-media: the live schema is the one files up to 0002_upload_nonces.sql make (set it): "
            "`pulumi config set --path 'blaze-infra:d1Baselines.blaze-media' 0002_upload_nonces.sql -s blazesportsintel/prod`") in report
    assert ("- blaze-monitoring: the live schema is the one files up to 0002_alert_outbox.sql make "
            "(the stack sets 0001_metrics_incidents_reports.sql: change it)") in report
    assert "- blaze-odds: NEEDS ATTENTION" in report and "column odds_events.note is not made by any migration" in report
    assert "- blaze-search: empty; its first deploy applies every file" in report


def test_bad_config_exits_1_and_names_it(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    live = live_account(planned)
    with CloudflareApi(dataclasses.replace(live, zones=[])) as api:
        assert run(api, root, monkeypatch) == 1
        assert "zone blazesportsintel.com (0b7d3c9e8f1a4b2c9d6e5f4a3b2c1d0e) is not a zone of account" in capsys.readouterr().err
        monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
        assert run(api, root, monkeypatch) == 1
        assert "CLOUDFLARE_API_TOKEN is not set" in capsys.readouterr().err
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        (root / "build/plan/staging.json").unlink()
        assert run(api, root, monkeypatch) == 1
        assert "build/plan/staging.json: no plan of staging; run `make plan STACK=staging` first" in capsys.readouterr().err
        assert run(api, root, monkeypatch, audit_module) == 2
    assert not (root / "build/adopt").exists()


def test_the_drift_workflow_runs_the_audit_and_reports_what_it_found(planned: dict[str, Planned], tmp_path: Path) -> None:
    # The step's own script, run as the workflow runs it (bash -e), in this checkout.
    workflow = yaml.safe_load((ROOT / ".github/workflows/drift.yml").read_text())
    step = next(s for s in workflow["jobs"]["drift"]["steps"] if s.get("id") == "audit")
    script = step["run"].replace("${{ matrix.stack }}", "prod")
    live = live_account(planned)
    outputs = tmp_path / "github_output"
    with CloudflareApi(dataclasses.replace(live, scripts=[*live.scripts, Script("blaze-made-in-the-dashboard")])) as api:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "MAKE"))}
        env = keep | {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_BASE_URL": api.base_url, "GITHUB_OUTPUT": str(outputs)}
        done = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs.read_text() == "code=3\n"
    assert "- Worker blaze-made-in-the-dashboard" in (ROOT / "build/drift/audit.md").read_text()


def test_an_answer_without_its_result_is_malformed_not_an_empty_account(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # A 200 whose envelope says success false and holds no result: the SDK would read it as
    # a page with no databases, and every database would wrongly be "to be created".
    with CloudflareApi(live_account(planned)) as api:
        api.fail("GET", r"/d1/database$", 200, errors=[{"code": 7500, "message": "Internal error"}])
        assert run(api, root, monkeypatch) == 2
    assert "list D1 databases: malformed answer: its result is not a list" in capsys.readouterr().err
    assert not (root / "build/adopt").exists()


def test_an_api_that_cannot_be_reached_writes_nothing(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(adopt_module, "MAX_RETRIES", 0)  # the SDK's backoff would only slow the test
    with CloudflareApi(live_account(planned)) as api:
        closed = api.base_url
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", closed)
    assert adopt_module.main(["prod"], root=root) == 2
    assert "list zones: cannot reach the API" in capsys.readouterr().err
    assert not (root / "build/adopt").exists()


def test_the_audit_reports_a_schedule_changed_in_the_dashboard(
    planned: dict[str, Planned], root: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # The provider neither imports nor refreshes schedules (no_refresh), so only this sees it.
    live = live_account(planned)
    scripts = [Script(s.name, ["15 * * * *"]) if s.name == "blaze-monitor" else s for s in live.scripts]
    with CloudflareApi(dataclasses.replace(live, scripts=scripts)) as api:
        assert run(api, root, monkeypatch, audit_module) == audit_module.EXIT_UNMANAGED
    out = capsys.readouterr().out
    declared = next(r for r in planned["prod"].of_type("WorkersCronTrigger") if r["inputs"]["scriptName"] == "blaze-monitor")
    want = sorted(s["cron"] for s in declared["inputs"]["schedules"])
    assert f"- blaze-monitor: live ['15 * * * *'], declared {want}" in out
    assert "Nothing: every live resource is declared by a stack." in out
