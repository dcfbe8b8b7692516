"""A Worker service: the script, its cron triggers, routes and custom domains."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_cloudflare as cloudflare

from workers.bundle import Bundle


@dataclass(frozen=True)
class RouteTarget:
    zone_id: str
    pattern: str


@dataclass(frozen=True)
class DomainTarget:
    host: str  # the catalog's host key: names the child resource
    zone_id: str
    hostname: str


@dataclass(frozen=True)
class WorkerServiceArgs:
    account_id: str
    script_name: str
    bundle: Bundle
    compatibility_date: str
    compatibility_flags: Sequence[str]
    bindings: Sequence[cloudflare.WorkersScriptBindingArgs]
    crons: Sequence[str]
    routes: Sequence[RouteTarget]
    domains: Sequence[DomainTarget]
    log_sampling_rate: float
    # Resources the script must wait for without taking an input from them: the
    # migrations of the databases it binds (schema before code), so new code never meets
    # an old schema, and a migration shows no diff on the Worker.
    after: Sequence[pulumi.Resource] = ()


def _slug(pattern: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", pattern.lower()).strip("-")


class WorkerService(pulumi.ComponentResource):
    """One Worker. Its code is the family bundle; `sha256` is that bundle's digest."""

    script_name: pulumi.Output[str]
    sha256: str

    def __init__(self, name: str, args: WorkerServiceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("blaze:worker:WorkerService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.script = cloudflare.WorkersScript(
            f"{name}-script",
            account_id=args.account_id,
            script_name=args.script_name,
            # content_file + content_sha256: the provider uploads the file, and the digest
            # is what a preview compares, so only a real code change shows a diff.
            content_file=args.bundle.content_file,
            content_sha256=args.bundle.sha256,
            main_module=args.bundle.main_module,
            compatibility_date=args.compatibility_date,
            compatibility_flags=list(args.compatibility_flags),
            bindings=list(args.bindings),
            observability=cloudflare.WorkersScriptObservabilityArgs(
                enabled=True,
                head_sampling_rate=args.log_sampling_rate,
                logs=cloudflare.WorkersScriptObservabilityLogsArgs(
                    enabled=True,
                    invocation_logs=True,
                    head_sampling_rate=args.log_sampling_rate,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        self.script_name = self.script.script_name
        self.sha256 = args.bundle.sha256

        self.crons: cloudflare.WorkersCronTrigger | None = None
        if args.crons:
            self.crons = cloudflare.WorkersCronTrigger(
                f"{name}-crons",
                account_id=args.account_id,
                script_name=self.script.script_name,
                schedules=[cloudflare.WorkersCronTriggerScheduleArgs(cron=cron) for cron in args.crons],
                opts=child,
            )
        self.routes = [
            cloudflare.WorkersRoute(
                f"{name}-route-{_slug(route.pattern)}",
                zone_id=route.zone_id,
                pattern=route.pattern,
                script=self.script.script_name,
                opts=child,
            )
            for route in args.routes
        ]
        self.domains = [
            cloudflare.WorkersCustomDomain(
                f"{name}-domain-{domain.host}",
                account_id=args.account_id,
                hostname=domain.hostname,
                service=self.script.script_name,
                zone_id=domain.zone_id,
                opts=child,
            )
            for domain in args.domains
        ]
        self.register_outputs({"script_name": self.script_name, "sha256": self.sha256})
