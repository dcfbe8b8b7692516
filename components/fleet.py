"""The fleet: every component of one stack, wired together from the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import pulumi
import pulumi_cloudflare as cloudflare

from components.alerting import Alerting, AlertingArgs, PolicyArgs, WebhookArgs
from components.d1 import Database, DatabaseArgs
from components.kv import Namespace, NamespaceArgs
from components.r2 import Bucket, BucketArgs, BucketCors
from components.worker import DomainTarget, RouteTarget, WorkerService, WorkerServiceArgs
from d1.migration_set import MigrationSet
from stacks import Stack
from stacks.catalog import Worker
from workers.bundle import Bundle


@dataclass(frozen=True)
class FleetArgs:
    stack: Stack
    bundles: Mapping[str, Bundle]  # family -> its built bundle
    migrations: Mapping[str, MigrationSet]  # database -> its migration set


class Fleet(pulumi.ComponentResource):
    """All Workers, databases, namespaces, buckets and alert routes of one stack."""

    def __init__(self, name: str, args: FleetArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("blaze:fleet:Fleet", name, None, opts)
        self._stack = args.stack
        settings = args.stack.settings
        catalog = args.stack.catalog
        child = pulumi.ResourceOptions(parent=self)
        account = settings.account_id
        protect = settings.protect_data

        self.databases = {
            db.name: Database(
                db.name,
                DatabaseArgs(
                    account_id=account,
                    name=settings.physical_name(db.name),
                    protect=protect,
                    migrations=args.migrations[db.name],
                    baseline=settings.d1_baselines.get(db.name),
                ),
                child,
            )
            for db in catalog.databases
        }
        self.namespaces = {
            ns.name: Namespace(ns.name, NamespaceArgs(account, settings.physical_name(ns.name), protect), child)
            for ns in catalog.namespaces
        }
        self.buckets = {
            bucket.name: Bucket(
                bucket.name,
                BucketArgs(
                    account_id=account,
                    name=settings.physical_name(bucket.name),
                    protect=protect,
                    cors=BucketCors(bucket.cors, settings.cors_origins[bucket.name]) if bucket.cors else None,
                    lifecycle=bucket.lifecycle,
                ),
                child,
            )
            for bucket in catalog.buckets
        }
        # The catalog lists Workers with service-binding targets first, so every target
        # exists here before a Worker that binds to it.
        self.workers: dict[str, WorkerService] = {}
        for worker in catalog.workers:
            self.workers[worker.name] = WorkerService(worker.name, self._worker_args(worker, args.bundles), child)

        alerts = settings.alerts
        self.alerting = Alerting(
            "alerting",
            AlertingArgs(
                account_id=account,
                webhooks=[
                    WebhookArgs(
                        key=key,
                        name=settings.physical_name(f"blaze-{key}"),
                        url=args.stack.secrets[hook.url_secret],
                        secret=args.stack.secrets[hook.signing_secret],
                    )
                    for key, hook in sorted(alerts.destinations.webhooks.items())
                ],
                policies=[
                    PolicyArgs(
                        key=policy.name,
                        name=settings.physical_name(f"blaze-{policy.name}"),
                        alert_type=policy.alert_type,
                        description=policy.description,
                        alert_interval=policy.alert_interval,
                        emails=[alerts.destinations.emails[e] for e in policy.to.emails],
                        webhooks=list(policy.to.webhooks),
                        pagerduty=[alerts.destinations.pagerduty[p] for p in policy.to.pagerduty],
                    )
                    for policy in alerts.policies
                ],
            ),
            child,
        )
        self.outputs = self._outputs()
        self.register_outputs(self.outputs)

    def _binding(self, kind: str, binding: str, target: str) -> cloudflare.WorkersScriptBindingArgs:
        if kind == "d1":
            return cloudflare.WorkersScriptBindingArgs(name=binding, type="d1", id=self.databases[target].id)
        if kind == "kv":
            return cloudflare.WorkersScriptBindingArgs(
                name=binding, type="kv_namespace", namespace_id=self.namespaces[target].id
            )
        if kind == "r2":
            return cloudflare.WorkersScriptBindingArgs(
                name=binding, type="r2_bucket", bucket_name=self.buckets[target].name
            )
        if kind == "service":
            return cloudflare.WorkersScriptBindingArgs(
                name=binding, type="service", service=self.workers[target].script_name
            )
        if kind == "var":
            return cloudflare.WorkersScriptBindingArgs(name=binding, type="plain_text", text=target)
        if kind == "origins":
            # The same list the bucket's CORS rule gets, so the Worker and the bucket agree.
            origins = ",".join(self._stack.settings.cors_origins[target])
            return cloudflare.WorkersScriptBindingArgs(name=binding, type="plain_text", text=origins)
        return cloudflare.WorkersScriptBindingArgs(name=binding, type="secret_text", text=self._stack.secrets[target])

    def _worker_args(self, worker: Worker, bundles: Mapping[str, Bundle]) -> WorkerServiceArgs:
        settings = self._stack.settings
        defaults = self._stack.catalog.defaults
        hosts = settings.hosts
        return WorkerServiceArgs(
            account_id=settings.account_id,
            script_name=settings.physical_name(worker.name),
            bundle=bundles[worker.family],
            compatibility_date=worker.compatibility_date or defaults.compatibility_date,
            compatibility_flags=worker.compatibility_flags or defaults.compatibility_flags,
            bindings=[
                self._binding(kind, binding, target)
                for kind, _, binding, target in sorted(worker.bindings(), key=lambda b: b[2])
            ],
            crons=self._stack.crons(worker),
            routes=[
                RouteTarget(
                    zone_id=settings.zones[hosts[route.host].zone].id,
                    pattern=f"{hosts[route.host].hostname}{route.path}",
                )
                for route in worker.routes
            ],
            domains=[
                DomainTarget(host=host, zone_id=settings.zones[hosts[host].zone].id, hostname=hosts[host].hostname)
                for host in worker.domains
            ],
            log_sampling_rate=settings.log_sampling_rate,
            after=[self.databases[target].migrations for target in worker.d1.values()],
        )

    def _outputs(self) -> dict[str, Any]:
        """The stack outputs: every resource's id, and per Worker the digest it deploys."""
        catalog = self._stack.catalog
        return {
            "accountId": self._stack.settings.account_id,
            "workers": {
                name: {
                    "scriptName": service.script_name,
                    "id": service.script.id,
                    "family": catalog.worker(name).family,
                    "sha256": service.sha256,
                    "crons": self._stack.crons(catalog.worker(name)),
                    "routeIds": [route.id for route in service.routes],
                    "domainIds": [domain.id for domain in service.domains],
                }
                for name, service in sorted(self.workers.items())
            },
            "d1": {
                name: {"name": db.name, "id": db.id, "migrations": db.migrations_digest, "restorePoint": db.restore_point}
                for name, db in sorted(self.databases.items())
            },
            "kv": {name: {"title": ns.title, "id": ns.id} for name, ns in sorted(self.namespaces.items())},
            "r2": {name: {"name": b.name, "id": b.bucket.id} for name, b in sorted(self.buckets.items())},
            "alerting": {"webhooks": self.alerting.webhook_ids, "policies": self.alerting.policy_ids},
        }
