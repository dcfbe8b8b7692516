"""A live account as the seed's hand-made fleet would be, built from both stacks' plans:
every declared Worker, database (its tables made by hand, no d1_migrations), namespace,
bucket, route, custom domain, policy and webhook exists under its declared name."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from d1.migration_set import load_migration_set
from operations import adopt
from policies.resource_types import D1_MIGRATIONS
from tests.cloudflare_api import TOKEN, Account, Bucket, CloudflareApi, CustomDomain, Database, Namespace, Policy, Route, Script, Webhook, Zone
from tests.conftest import ROOT, Planned

STACKS = ("staging", "prod")


def hex_id(name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, name).hex


def uuid_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def hand_made_schema(migrations_dir: str, files: int | None = None) -> str:
    """A database as the seed made it: the tables of its first `files` migrations, no record."""
    migrations = load_migration_set(ROOT, migrations_dir).migrations
    return "\n".join(m.sql for m in migrations[: files if files is not None else len(migrations)])


def live_account(planned: dict[str, Planned], stacks: tuple[str, ...] = STACKS) -> Account:
    scripts: dict[str, Script] = {}
    databases, namespaces, buckets, domains, policies, webhooks = [], [], [], [], [], []
    zones: dict[str, tuple[str, list[Route]]] = {}
    account_id = ""
    for stack in stacks:
        resources = planned[stack].plan["resources"]
        dirs = {r["parent"].rsplit("::", 1)[-1]: r["inputs"]["directory"]
                for r in resources if r["type"] == D1_MIGRATIONS}
        crons = {r["inputs"]["scriptName"]: [s["cron"] for s in r["inputs"]["schedules"]]
                 for r in resources if r["type"].endswith("WorkersCronTrigger")}
        for r in resources:
            kind, i = r["type"].rsplit(":", 1)[-1], r["inputs"]
            account_id = i.get("accountId", account_id)
            if kind == "WorkersScript":
                scripts[i["scriptName"]] = Script(i["scriptName"], crons.get(i["scriptName"], []))
            elif kind == "D1Database":
                databases.append(Database(uuid_id(i["name"]), i["name"], hand_made_schema(dirs[r["parent"].rsplit("::", 1)[-1]])))
            elif kind == "WorkersKvNamespace":
                namespaces.append(Namespace(hex_id(i["title"]), i["title"]))
            elif kind == "R2Bucket":
                buckets.append(Bucket(i["name"]))
            elif kind == "WorkersRoute":
                zones.setdefault(i["zoneId"], ("blazesportsintel.com", []))[1].append(Route(hex_id(i["pattern"]), i["pattern"], i["script"]))
            elif kind == "WorkersCustomDomain":
                domains.append(CustomDomain(hex_id(i["hostname"]), i["hostname"], i["service"], i["zoneId"], "blazesportsintel.com"))
            elif kind == "NotificationPolicy":
                policies.append(Policy(uuid_id(stack + i["name"]), i["name"], i["alertType"]))
            elif kind == "NotificationPolicyWebhooks":
                webhooks.append(Webhook(uuid_id(stack + i["name"]), i["name"], "https://hooks.example.com/ops"))
    return Account(
        account_id, scripts=list(scripts.values()), databases=databases, namespaces=namespaces, buckets=buckets,
        zones=[Zone(zone_id, name, routes) for zone_id, (name, routes) in zones.items()],
        domains=domains, policies=policies, webhooks=webhooks,
    )


def project_with_plans(planned: dict[str, Planned], folder: Path) -> Path:
    """A project folder as `make adopt` has it before reading the account: both plans written."""
    for name in ("Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, folder / name)
    (folder / "workers").symlink_to(ROOT / "workers")
    (folder / "build" / "plan").mkdir(parents=True)
    for stack in STACKS:
        (folder / "build" / "plan" / f"{stack}.json").write_text(json.dumps(planned[stack].plan))
    return folder


def adopted_import_file(api: CloudflareApi, root: Path, stack: str = "prod") -> dict[str, Any]:
    """`make adopt STACK=<stack>` run in `root` against the loopback account: the import file it wrote."""
    with pytest.MonkeyPatch.context() as env:
        # The SDK would send an API key and email instead of the token if they were set.
        for name in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
            env.delenv(name, raising=False)
        env.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        env.setenv("CLOUDFLARE_BASE_URL", api.base_url)
        assert adopt.main([stack], root=root) == 0
    return json.loads((root / adopt.ADOPT_DIR / f"{stack}.json").read_text())
