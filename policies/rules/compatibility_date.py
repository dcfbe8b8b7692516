"""Every Worker sets a compatibility date that is neither in the future nor too old."""

from __future__ import annotations

import datetime
from typing import Annotated, Iterator

from pulumi_policy import ResourceValidationArgs, Severity
from pydantic import Field

from policies import resource_types as types
from policies.framework import ResourceRule, RuleConfig, RuleInfo, RunContext, plain


class Config(RuleConfig):
    max_age_days: Annotated[
        int, Field(ge=1, description="Oldest compatibility date allowed, in days before the day of the check")
    ]


def check(args: ResourceValidationArgs, config: Config, context: RunContext) -> Iterator[str]:
    value = plain(args.props.get("compatibilityDate"))
    if not value:
        yield "sets no compatibilityDate, so the runtime's behaviour changes under it without a deploy"
        return
    try:
        date = datetime.date.fromisoformat(str(value))
    except ValueError:
        yield f"compatibilityDate {value!r} is not a YYYY-MM-DD date"
        return
    today = context.today()
    if date > today:
        yield f"compatibilityDate {value} is in the future (today is {today}): Cloudflare rejects it"
    elif (today - date).days > config.max_age_days:
        yield (
            f"compatibilityDate {value} is {(today - date).days} days old, more than {config.max_age_days}: "
            "move it forward and test the Worker against the runtime changes since"
        )


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-worker-compatibility-date",
        title="Compatibility date is current",
        description="Every Worker sets a compatibility date, not in the future and not older than the configured age.",
        severity=Severity.MEDIUM,
        remediation=(
            "Set defaults.compatibility_date (or the Worker's own) in stacks/catalog/workers.yaml to a recent "
            "date that has passed, after running the Workers' tests against it."
        ),
        docs="https://developers.cloudflare.com/workers/configuration/compatibility-dates/",
        tags=("workers", "runtime"),
    ),
    config=Config,
    resource_types=(types.WORKERS_SCRIPT,),
    check=check,
)
