"""Adopting the live fleet with the real engine: a loopback account populated like the live
fleet before any up (tests/operations/accounts.py), `make adopt`, `pulumi import --file` of
what it writes with the bridged provider reading every resource, then prod's preview.

What the runbook promises (docs/RUNBOOK.md, "Adopt the live account"): no data resource is
replaced or deleted; the preview updates only what the adoption report says the first up
writes, and creates only what it lists as to be created or written by the first up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.deployment import Deployment
from local.cloudflare_api import TOKEN, CloudflareApi
from local.cloudflare_api.hand_made import live_account
from operations import adopt
from tests.conftest import Planned
from tests.operations.accounts import project_with_plans

DATA = ("D1Database", "WorkersKvNamespace", "R2Bucket")
# What the first preview after an import updates, and why (the runbook's list): the API never
# returns a script's content or its secret bindings, nor a webhook's secret; a cron trigger's
# schedules are never read back (upstream's `no_refresh`); the alert policies the seed made by
# hand route otherwise than the catalog. The imported state lacks what the catalog declares,
# and the first up writes it.
UPDATED_AFTER_IMPORT = {"WorkersScript", "WorkersCronTrigger", "NotificationPolicy", "NotificationPolicyWebhooks"}


def test_an_imported_live_fleet_previews_without_replacing_or_deleting_any_data(
    binaries: dict[str, Path], planned: dict[str, Planned], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CloudflareApi(live_account(planned)) as api:
        (tmp_path / "plans").mkdir()
        root = project_with_plans(planned, tmp_path / "plans")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.base_url)
        assert adopt.main(["prod"], root=root) == 0
        imports = json.loads((root / "build/adopt/prod.json").read_text())

        deployment = Deployment.start(tmp_path / "deploy", api, binaries)
        deployment.workspace.set_outputs("staging", planned["staging"].plan["outputs"])
        before = len(api.requests)
        deployment.cli("import", "--file", str(root / "build/adopt/prod.json"), "--generate-code=false", "--yes", stack="prod")
        assert [r for r in api.requests[before:] if r.method != "GET"] == []  # an import only reads

        state = {r["urn"].rsplit("::", 1)[-1]: r for r in deployment.resources("prod") if r.get("custom")}
        imported = {entry.get("logicalName", entry["name"]) for entry in imports["resources"] if "id" in entry}
        assert imported <= set(state)

        preview = json.loads(deployment.program("preview", "prod", "--json", policy=True).done.stdout)
        changes = [(s["op"], s["urn"].split("::")[2].rsplit(":", 1)[-1], s["urn"].rsplit("::", 1)[-1])
                   for s in preview["steps"] if s["op"] not in ("same", "read")]
        assert not [c for c in changes if c[1] in DATA], changes
        assert {op for op, _, _ in changes} <= {"create", "update"}, changes
        declared = {r["name"] for r in planned["prod"].plan["resources"] if r["type"].startswith(("cloudflare:", "pulumi-python:"))}
        assert {name for op, _, name in changes if op == "create"} == declared - imported
        assert {kind for op, kind, _ in changes if op == "update"} == UPDATED_AFTER_IMPORT
