"""Every Worker that runs on a cron is covered by an alert route."""

from __future__ import annotations

from typing import Annotated, Iterator

from pulumi_policy import Severity, StackValidationArgs
from pydantic import Field

from policies import resource_types as types
from policies.framework import Finding, RuleConfig, RuleInfo, RunContext, StackRule, fields, items, of_type, plain


class Config(RuleConfig):
    alert_types: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]],
        Field(
            min_length=1,
            description=(
                "Cloudflare notification alert types that reach the people who run scheduled Workers "
                "(Cloudflare has no alert type for one Worker)"
            ),
        ),
    ]


def _routes_somewhere(policy_props: object) -> bool:
    mechanisms = fields(fields(policy_props).get("mechanisms"))
    return any(items(mechanisms.get(kind)) for kind in ("emails", "webhooks", "pagerduties"))


def check(args: StackValidationArgs, config: Config, context: RunContext) -> Iterator[Finding]:
    covering = [
        policy
        for policy in of_type(args.resources, types.NOTIFICATION_POLICY)
        if plain(policy.props.get("alertType")) in config.alert_types
        and plain(policy.props.get("enabled")) is not False
        and _routes_somewhere(policy.props)
    ]
    if covering:
        return
    wanted = ", ".join(config.alert_types)
    for trigger in of_type(args.resources, types.WORKERS_CRON_TRIGGER):
        if items(trigger.props.get("schedules")):
            yield Finding(
                f"Worker {plain(trigger.props.get('scriptName'))} runs on a cron, but no enabled notification "
                f"policy of type {wanted} routes alerts to an email, webhook or PagerDuty destination",
                trigger.urn,
            )


RULE = StackRule(
    info=RuleInfo(
        id="blaze-cron-alert-route",
        title="Scheduled Workers are covered by alerts",
        description="If a Worker runs on a cron, an enabled notification policy of a covering alert type routes alerts to someone.",
        severity=Severity.HIGH,
        remediation=(
            "Add a policy of one of the covering alert types under alerts.policies in Pulumi.<stack>.yaml, "
            "routed to at least one destination."
        ),
        docs="https://developers.cloudflare.com/notifications/",
        tags=("alerting", "crons", "operations"),
    ),
    config=Config,
    check=check,
)
