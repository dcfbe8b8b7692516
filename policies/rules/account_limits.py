"""The stack's counts of Workers, D1 databases, KV namespaces, buckets and cron triggers stay in budget."""

from __future__ import annotations

from typing import Annotated, Iterator

from pulumi_policy import Severity, StackValidationArgs
from pydantic import Field

from policies import resource_types as types
from policies.framework import Finding, RuleConfig, RuleInfo, RunContext, StackRule, items, of_type


def _limit(what: str) -> object:
    return Field(ge=0, description=f"Most {what} this stack may declare (its share of the account's plan limit)")


class Config(RuleConfig):
    max_workers: Annotated[int, _limit("Workers")]
    max_d1_databases: Annotated[int, _limit("D1 databases")]
    max_kv_namespaces: Annotated[int, _limit("KV namespaces")]
    max_r2_buckets: Annotated[int, _limit("R2 buckets")]
    max_cron_triggers: Annotated[int, _limit("cron triggers (schedules, summed over Workers)")]


def check(args: StackValidationArgs, config: Config, context: RunContext) -> Iterator[Finding]:
    resources = list(args.resources)
    counts = (
        ("Workers", len(list(of_type(resources, types.WORKERS_SCRIPT))), config.max_workers),
        ("D1 databases", len(list(of_type(resources, types.D1_DATABASE))), config.max_d1_databases),
        ("KV namespaces", len(list(of_type(resources, types.KV_NAMESPACE))), config.max_kv_namespaces),
        ("R2 buckets", len(list(of_type(resources, types.R2_BUCKET))), config.max_r2_buckets),
        (
            "cron triggers",
            sum(len(items(t.props.get("schedules"))) for t in of_type(resources, types.WORKERS_CRON_TRIGGER)),
            config.max_cron_triggers,
        ),
    )
    for what, count, limit in counts:
        if count > limit:
            yield Finding(f"the stack declares {count} {what}, over its limit of {limit}")


RULE = StackRule(
    info=RuleInfo(
        id="blaze-account-limits",
        title="Within the account's plan limits",
        description="The stack's Workers, D1 databases, KV namespaces, R2 buckets and cron triggers stay within the limits in its policy config.",
        severity=Severity.HIGH,
        remediation=(
            "Remove or merge entries in stacks/catalog/, disable crons per stack (disabledCrons), or raise the "
            "limit in policies/<stack>.json after checking the account's plan: staging and prod share one account."
        ),
        docs="https://developers.cloudflare.com/workers/platform/limits/",
        tags=("limits", "cost"),
    ),
    config=Config,
    check=check,
)
