"""A live account as the seed's hand-made fleet would be, built from both stacks' plans:
every declared Worker, database (its tables made by hand, no d1_migrations), namespace,
bucket, route, custom domain, policy and webhook exists under its declared name. The tests
of adoption and the adoption benchmark read this account through the loopback API."""

from __future__ import annotations

import uuid
from typing import Any, Mapping, Protocol

from d1.migration_set import load_migration_set
from local.cloudflare_api.seed import Account, Bucket, CustomDomain, Database, Namespace, Policy, Route, Script, Webhook, Zone
from policies.resource_types import D1_MIGRATIONS
from stacks import PROJECT_ROOT


class HasPlan(Protocol):
    """A stack's plan document as `make plan` writes it (the tests' Planned has one)."""

    plan: dict[str, Any]


STACKS = ("staging", "prod")


def hex_id(name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, name).hex


def uuid_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def hand_made_schema(migrations_dir: str, files: int | None = None) -> str:
    """A database as the seed made it: the tables of its first `files` migrations, no record."""
    migrations = load_migration_set(PROJECT_ROOT, migrations_dir).migrations
    return "\n".join(m.sql for m in migrations[: files if files is not None else len(migrations)])


def live_account(planned: Mapping[str, HasPlan], stacks: tuple[str, ...] = STACKS) -> Account:
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
