"""Every Worker has observability and its logs enabled."""

from __future__ import annotations

from typing import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from policies import resource_types as types
from policies.framework import NoConfig, ResourceRule, RuleInfo, RunContext, fields, plain


def check(args: ResourceValidationArgs, config: NoConfig, context: RunContext) -> Iterator[str]:
    observability = fields(args.props.get("observability"))
    logs = fields(observability.get("logs"))
    if plain(observability.get("enabled")) is not True:
        yield "has observability off: its invocations leave no trace to debug an incident with"
    elif plain(logs.get("enabled")) is not True:
        yield "has observability on but its logs off"
    for where, settings in (("observability", observability), ("observability.logs", logs)):
        rate = plain(settings.get("headSamplingRate"))
        if isinstance(rate, (int, float)) and rate <= 0:
            yield f"{where}.headSamplingRate is {rate}, so no invocation is ever logged"


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-worker-observability",
        title="Workers are observable",
        description="Every Worker has observability enabled with its logs on and a sampling rate above zero.",
        severity=Severity.HIGH,
        remediation=(
            "Keep components/worker.py's observability block enabled and set logSamplingRate in "
            "Pulumi.<stack>.yaml between 0 (exclusive) and 1."
        ),
        docs="https://developers.cloudflare.com/workers/observability/logs/workers-logs/",
        tags=("observability", "operations"),
    ),
    config=NoConfig,
    resource_types=(types.WORKERS_SCRIPT,),
    check=check,
)
